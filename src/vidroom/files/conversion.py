"""Turning an uploaded PDF into slides, in the background.

:func:`start` schedules :func:`convert` as a task the module keeps (so it is not collected and
can be cancelled at shutdown, :func:`cancel_all`). The pages are rendered on PDFium's own
thread (``render.py``), never on the event loop; each page's slide and thumbnail are stored
through the files storage as soon as it is done, and the row's ``conversion_progress`` goes
from 0 to 1. Progress is written, and announced (``FileChanged`` → ``files_update``), at most
every :data:`PUBLISH_EVERY_S` seconds and always at the end. A PDF that cannot be converted
ends ``failed`` with the reason; its partial slides are removed. Each step is its own unit of
work: no transaction stays open while a page renders.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from sqlalchemy import update

from vidroom.db.uow import Database
from vidroom.events import catalogue as ev
from vidroom.files import render
from vidroom.files.models import MeetingFile
from vidroom.files.storage import FileStorage
from vidroom.meetings.models import Meeting

log = logging.getLogger(__name__)

PDF = "application/pdf"
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})
PUBLISH_EVERY_S = 0.3
MAX_SLIDE_BYTES = 50_000_000
INTERRUPTED = "the conversion was interrupted (the server restarted)"

_tasks: set[asyncio.Task[None]] = set()


def initial_state(content_type: str) -> str:
    """``converting`` for a PDF, ``image`` for a PNG/JPEG (one slide: itself), else ``none``."""
    if content_type == PDF:
        return "converting"
    return "image" if content_type in IMAGE_TYPES else "none"


def start(db: Database, storage: FileStorage, file_id: str, max_pages: int) -> None:
    _spawn(convert(db, storage, file_id, max_pages))


def _spawn(coro: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(coro, name="slides-conversion")
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def cancel_all() -> None:
    for task in list(_tasks):
        task.cancel()
    await asyncio.gather(*_tasks, return_exceptions=True)


async def wait_all() -> None:
    """Until every running conversion has ended (tests, shutdown)."""
    await asyncio.gather(*_tasks, return_exceptions=True)


async def fail_interrupted(db: Database) -> None:
    """At start: conversions a previous run left unfinished are failed (their partial slides
    stay until the file is deleted)."""
    async with db.uow() as uow:
        await uow.session.execute(
            update(MeetingFile)
            .where(MeetingFile.conversion == "converting")
            .values(conversion="failed", conversion_error=INTERRUPTED)
        )


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _save(
    db: Database,
    file_id: str,
    *,
    state: str,
    progress: float,
    keys: list[list[str]],
    error: str | None = None,
) -> bool:
    """Write the conversion's state and announce it; False when the file is gone."""
    async with db.uow() as uow:
        row = await uow.session.get(MeetingFile, file_id)
        meeting = await uow.session.get(Meeting, row.meeting_id) if row else None
        if row is None or meeting is None:
            return False
        row.conversion, row.conversion_progress = state, progress
        row.slide_keys, row.conversion_error = [list(k) for k in keys], error
        await uow.session.flush()
        await uow.emit(
            ev.FileChanged(team_id=meeting.team_id, meeting_id=meeting.id, file_id=row.id)
        )
    return True


async def convert(db: Database, storage: FileStorage, file_id: str, max_pages: int) -> None:
    loop = asyncio.get_running_loop()
    keys: list[list[str]] = []
    done = False
    try:
        async with db.reader() as uow:
            row = await uow.session.get(MeetingFile, file_id)
            if row is None:
                return
            path = storage.path(row.storage_key)
        try:
            doc = await loop.run_in_executor(render.PDFIUM, render.open_pdf, path, max_pages)
        except render.ConversionFailed as exc:
            await _save(db, file_id, state="failed", progress=0.0, keys=[], error=str(exc))
            return
        try:
            pages = len(doc)
            published = time.monotonic()
            for index in range(pages):
                slide, thumb = await loop.run_in_executor(
                    render.PDFIUM, render.render_page, doc, index
                )
                slide_blob = await storage.put(_one(slide), limit=MAX_SLIDE_BYTES)
                keys.append([slide_blob.key])
                thumb_blob = await storage.put(_one(thumb), limit=MAX_SLIDE_BYTES)
                keys[-1].append(thumb_blob.key)
                last = index == pages - 1
                if last or time.monotonic() - published >= PUBLISH_EVERY_S:
                    published = time.monotonic()
                    state = "converted" if last else "converting"
                    if not await _save(
                        db, file_id, state=state, progress=(index + 1) / pages, keys=keys
                    ):
                        return  # deleted meanwhile: its slides go below
            done = True
        finally:
            await loop.run_in_executor(render.PDFIUM, render.close_pdf, doc)
    except render.ConversionFailed as exc:
        await _remove(storage, keys)
        keys = []
        await _save(db, file_id, state="failed", progress=0.0, keys=[], error=str(exc))
        done = True
    except Exception:
        log.exception("converting file %s failed", file_id)
        await _remove(storage, keys)
        keys = []
        with contextlib.suppress(Exception):
            await _save(
                db, file_id, state="failed", progress=0.0, keys=[], error="the conversion failed"
            )
        done = True
    finally:
        if not done:
            with contextlib.suppress(Exception):
                await _remove(storage, keys)


async def _remove(storage: FileStorage, keys: list[list[str]]) -> None:
    for pair in keys:
        for key in pair:
            await storage.delete(key)
