"""Deletes recordings and snapshots (rows and files) older than ``VIDROOM_RETENTION_DAYS``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from vidroom.db.uow import Database
from vidroom.kit.clock import utc_now
from vidroom.recordings import repository as recording_rows
from vidroom.snapshots import service as snapshots
from vidroom.storage.media_store import MediaStore

log = logging.getLogger(__name__)


class RetentionJob:
    def __init__(
        self, db: Database, store: MediaStore, *, days: float, interval: float = 3600.0
    ) -> None:
        self.db = db
        self.store = store
        self.keep = timedelta(days=days)
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> int:
        """One pass: delete what is past retention; returns how many items went. A running
        recording is never deleted."""
        cutoff = utc_now() - self.keep
        keys: list[str] = []
        async with self.db.uow() as uow:
            for row in await recording_rows.older_than(uow.session, cutoff):
                keys.append(row.storage_key)
                await uow.session.delete(row)
            for snap in await snapshots.older_than(uow.session, cutoff):
                keys.append(snap.storage_key)
                await uow.session.delete(snap)
            await uow.session.flush()
        for key in keys:
            await self.store.delete(key)
        if keys:
            log.info("retention: deleted %d recordings and snapshots", len(keys))
        return len(keys)

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("retention sweep failed")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
