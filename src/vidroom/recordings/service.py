"""Use cases of recordings: reserve and start, pause/resume, stop, apply what the media server
reports (ended on its own, lost with its worker), repair cut-off files, read, list, delete.
Services never commit; each step of the lifecycle emits a
:class:`~vidroom.events.catalogue.RecordingChanged` in the caller's transaction.

Driving the media server is the edge's job, outside any transaction: :func:`begin` reserves the
meeting's one recording ("starting", no event yet), the edge asks the media server, then
:func:`started` (announced) or :func:`start_failed` (the reservation removed).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.db.uow import UnitOfWork
from vidroom.events import catalogue as ev
from vidroom.kit.clock import utc_now
from vidroom.media.contract import RecordingResult
from vidroom.meetings.models import Meeting, Participant
from vidroom.recordings import repository
from vidroom.recordings.models import Recording

PAGE = 25
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_REASON = 200

EventType = Literal[
    "recording.started",
    "recording.paused",
    "recording.resumed",
    "recording.stopped",
    "recording.ready-to-download",
    "recording.error",
]


async def _emit(uow: UnitOfWork, row: Recording, kind: EventType) -> None:
    await uow.emit(
        ev.RecordingChanged(
            type=kind, team_id=row.team_id, meeting_id=row.meeting_id, recording_id=row.id
        )
    )


def _not_recording() -> errors.VidroomError:
    return errors.not_found("not_recording", "the meeting is not being recorded")


async def check_can_start(session: AsyncSession, meeting: Meeting) -> None:
    """405 when the options forbid recording, 406 when one runs."""
    if not meeting.options.get("recording_available", True):
        raise errors.VidroomError(
            errors.ErrorKind.not_allowed,
            "recording_unavailable",
            "recording is not enabled for this meeting",
        )
    if await repository.running(session, meeting.id) is not None:
        raise errors.not_acceptable("recording_running", "the meeting is already being recorded")


async def begin(
    uow: UnitOfWork, meeting: Meeting, participant: Participant, storage_key: str
) -> Recording:
    session = uow.session
    await check_can_start(session, meeting)
    row = Recording(
        meeting_id=meeting.id,
        team_id=meeting.team_id,
        participant_id=participant.id,
        storage_key=storage_key,
        state="starting",
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        raise errors.not_acceptable(
            "recording_running", "the meeting is already being recorded"
        ) from None
    return row


async def started(uow: UnitOfWork, recording_id: str) -> Recording | None:
    row = await uow.session.get(Recording, recording_id)
    if row is None or row.state != "starting":
        return row
    row.state = "recording"
    row.created_at = utc_now()
    await uow.session.flush()
    await _emit(uow, row, "recording.started")
    return row


async def start_failed(uow: UnitOfWork, recording_id: str) -> None:
    row = await uow.session.get(Recording, recording_id)
    if row is not None and row.state == "starting":
        await uow.session.delete(row)
        await uow.session.flush()


async def current(session: AsyncSession, meeting: Meeting) -> Recording:
    """The meeting's running recording; 404 when none runs."""
    row = await repository.running(session, meeting.id)
    if row is None or row.state != "recording":
        raise _not_recording()
    return row


async def set_paused(uow: UnitOfWork, row: Recording, paused: bool) -> bool:
    """Record a pause or resume the media server applied; False when nothing changed."""
    if row.paused == paused:
        return False
    row.paused = paused
    await uow.session.flush()
    await _emit(uow, row, "recording.paused" if paused else "recording.resumed")
    return True


async def finish(
    uow: UnitOfWork, recording_id: str, result: RecordingResult, *, error: str | None = None
) -> Recording | None:
    """The file is closed (stopped, ended by the room, repaired): stopped, then ready — or,
    with ``error``, failed (what was written stays downloadable when it holds media).
    Applying it to a finished recording changes nothing."""
    row = await uow.session.get(Recording, recording_id)
    if row is None or row.stopped_at is not None:
        return None
    row.stopped_at = utc_now()
    row.paused = False
    row.duration = max(0.0, float(result.duration))
    row.size = max(0, int(result.size))
    if error is not None:
        row.state = "failed"
        row.reason = error[:MAX_REASON]
        await uow.session.flush()
        await _emit(uow, row, "recording.error")
        return row
    row.state = "stopped"
    await uow.session.flush()
    await _emit(uow, row, "recording.stopped")
    row.state = "ready"
    await uow.session.flush()
    await _emit(uow, row, "recording.ready-to-download")
    return row


async def lost(uow: UnitOfWork, recording_id: str, reason: str) -> None:
    """A recording whose file is gone or holds nothing: failed, with no media."""
    await finish(uow, recording_id, RecordingResult(recording_id, 0.0, 0), error=reason)


def valid_id(value: str) -> bool:
    """Whether ``value`` can be an id of ours (anything else is not looked up)."""
    return _ID.fullmatch(value) is not None


def downloadable(row: Recording) -> bool:
    return row.state == "ready" or (row.state == "failed" and (row.duration or 0) > 0)


async def of_team(session: AsyncSession, team_id: str, recording_id: str) -> Recording:
    """A recording of the team; 404 for any other (another team's is not revealed)."""
    row = None
    if valid_id(recording_id):
        row = await session.get(Recording, recording_id)
    if row is None or row.team_id != team_id:
        raise errors.not_found("recording_not_found", "no such recording")
    return row


async def listing(
    session: AsyncSession,
    team_id: str,
    *,
    meeting_ids: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
    page: int,
    per_page: int = PAGE,
) -> Sequence[Recording]:
    return await repository.of_team(
        session,
        team_id,
        meeting_ids=meeting_ids,
        since=since,
        until=until,
        offset=page * per_page,
        limit=per_page,
    )


async def remove(uow: UnitOfWork, row: Recording) -> str:
    """Delete the row; the edge removes the bytes once this has committed. Returns the key."""
    key = row.storage_key
    await uow.session.delete(row)
    await uow.session.flush()
    return key
