"""Recordings the media server can no longer finish: repaired and closed.

* ``room_lost`` (the room's media worker died): its running recordings.
* At start: every recording a killed server left running.

Each file is repaired by the media server (:meth:`MediaControl.finalize_recording`: every
complete fragment kept, a torn tail dropped, its real duration measured); the recording becomes
stopped and ready (or failed when nothing of it can be read).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from vidroom.db.uow import Database
from vidroom.media.contract import MediaControl, MediaError
from vidroom.recordings import repository
from vidroom.recordings import service as recordings
from vidroom.storage.media_store import MediaStore

log = logging.getLogger(__name__)


async def repair(
    db: Database, media: MediaControl, store: MediaStore, meeting_id: str | None = None
) -> Sequence[str]:
    """Repair and close the running recordings of ``meeting_id`` (None: of every meeting).
    Returns the ids closed."""
    async with db.reader() as uow:
        rows = await repository.all_running(uow.session)
        found = [
            (row.id, row.storage_key, row.state)
            for row in rows
            if meeting_id is None or row.meeting_id == meeting_id
        ]
    closed = []
    for recording_id, key, state in found:
        if state == "starting":
            async with db.uow() as uow:
                await recordings.start_failed(uow, recording_id)
            continue
        try:
            result = await media.finalize_recording(recording_id, str(store.path_for(key)))
            error = None
        except MediaError as exc:
            log.warning("recording %s could not be repaired: %s", recording_id, exc.reason[:80])
            result, error = None, f"the recording was lost ({exc.reason[:80]})"
        async with db.uow() as uow:
            if result is None:
                await recordings.lost(uow, recording_id, error or "lost")
            else:
                await recordings.finish(uow, recording_id, result)
        closed.append(recording_id)
    return closed
