"""Use cases of live broadcasts: start (reserve the meeting's one broadcast), update the player
URL, stop, and apply what the media server reports. Services never commit; every change emits a
:class:`~vidroom.events.catalogue.BroadcastChanged` in the caller's transaction.

Driving the media server (``start_broadcast`` / ``stop_broadcast``) is the edge's job, outside
any transaction: :func:`begin` reserves the row first, so two concurrent starts cannot both
reach the media server, and :func:`start_failed` closes the row when the media server refuses.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.broadcasts import repository
from vidroom.broadcasts.models import ENDED_STATES, Broadcast
from vidroom.db.uow import UnitOfWork
from vidroom.events import catalogue as ev
from vidroom.events.hub import EventHub, TransactionalHandler
from vidroom.events.models import OutboxEvent
from vidroom.kit.clock import utc_now
from vidroom.kit.stream_url import ParsedStreamURL
from vidroom.meetings.models import Meeting, Participant

MAX_PLAYER_URL = 2000
MAX_REASON = 200
DEFAULT_PLATFORM = "generic"
_PLATFORM = re.compile(r"[A-Za-z0-9_-]{1,32}")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")

EventType = Literal[
    "streaming.started",
    "streaming.connected",
    "streaming.reconnecting",
    "streaming.updated",
    "streaming.ended",
    "streaming.error",
]


def check_player_url(value: str | None) -> str:
    """An optional http(s) URL where people watch the stream; "" when not given."""
    if value is None or value == "":
        return ""
    if len(value) > MAX_PLAYER_URL:
        raise errors.invalid(
            "invalid_parameter", f"player_url has at most {MAX_PLAYER_URL} characters"
        )
    if _CONTROL.search(value):
        raise errors.invalid(
            "invalid_parameter", "player_url must not contain spaces or control characters"
        )
    if not value.lower().startswith(("https://", "http://")) or len(value.split("://", 1)[1]) == 0:
        raise errors.invalid("invalid_parameter", "player_url must be an http(s) URL")
    return value


def check_platform(value: str | None) -> str:
    """The legacy ``platform`` ("generic", "youtube", "facebook", ...)."""
    if value is None or value == "":
        return DEFAULT_PLATFORM
    if not _PLATFORM.fullmatch(value):
        raise errors.invalid(
            "invalid_parameter", "platform has 1 to 32 letters, digits, '-' or '_'"
        )
    return value.lower()


async def _emit(
    uow: UnitOfWork, meeting: Meeting, row: Broadcast, kind: EventType, reason: str | None = None
) -> None:
    await uow.emit(
        ev.BroadcastChanged(
            type=kind,
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            broadcast_id=row.id,
            reason=reason,
        )
    )


def _check_allowed(meeting: Meeting) -> None:
    if not meeting.options.get("broadcast_available", True):
        raise errors.VidroomError(
            errors.ErrorKind.not_allowed,
            "broadcast_unavailable",
            "broadcasts are not enabled for this meeting",
        )


def _already() -> errors.VidroomError:
    return errors.not_acceptable("broadcast_running", "a broadcast is already running")


async def check_can_start(session: AsyncSession, meeting: Meeting) -> None:
    """405 when the meeting's options forbid broadcasts, 406 when one runs."""
    _check_allowed(meeting)
    if await repository.running(session, meeting.id) is not None:
        raise _already()


async def begin(
    uow: UnitOfWork,
    meeting: Meeting,
    participant: Participant,
    *,
    stream: ParsedStreamURL,
    player_url: str,
    platform: str,
) -> Broadcast:
    """Reserve the meeting's broadcast ("starting") and announce it; 405 / 406 as
    :func:`check_can_start`."""
    session = uow.session
    await check_can_start(session, meeting)
    row = Broadcast(
        meeting_id=meeting.id,
        participant_id=participant.id,
        platform=platform,
        player_url=player_url,
        stream_redacted=stream.redacted,
        state="starting",
    )
    try:
        async with session.begin_nested():
            await repository.add(session, row)
    except IntegrityError:
        raise _already() from None  # a concurrent start won
    await _emit(uow, meeting, row, "streaming.started")
    return row


def _close(row: Broadcast, state: Literal["ended", "failed"], reason: str | None) -> None:
    row.state = state
    row.reason = reason[:MAX_REASON] if reason else None
    row.ended_at = utc_now()


async def start_failed(uow: UnitOfWork, broadcast_id: str, reason: str) -> None:
    """The media server refused to start the broadcast: it is over, with an error event."""
    row = await repository.by_id(uow.session, broadcast_id)
    if row is None or row.ended_at is not None:
        return
    meeting = await uow.session.get(Meeting, row.meeting_id)
    if meeting is None:
        return
    _close(row, "failed", reason)
    await uow.session.flush()
    await _emit(uow, meeting, row, "streaming.error", row.reason)


async def _running_on(session: AsyncSession, meeting: Meeting, platform: str | None) -> Broadcast:
    row = await repository.running(session, meeting.id)
    if platform is not None:
        check_platform(platform)
        if row is not None and row.platform != platform.lower():
            raise errors.not_found("broadcast_not_found", "no broadcast runs on that platform")
    if row is None:
        raise errors.not_found("broadcast_not_found", "no broadcast is running")
    return row


async def update(
    uow: UnitOfWork, meeting: Meeting, *, platform: str | None, player_url: str | None
) -> Broadcast:
    """Change the running broadcast's player URL; 404 when none runs (on that platform)."""
    row = await _running_on(uow.session, meeting, platform)
    checked = check_player_url(player_url)
    if checked != row.player_url:
        row.player_url = checked
        await uow.session.flush()
        await _emit(uow, meeting, row, "streaming.updated")
    return row


async def stop(uow: UnitOfWork, meeting: Meeting, *, platform: str | None) -> Broadcast:
    """End the running broadcast; 404 when none runs (on that platform). The edge stops the
    media once this has committed."""
    row = await _running_on(uow.session, meeting, platform)
    _close(row, "ended", "stopped")
    await uow.session.flush()
    await _emit(uow, meeting, row, "streaming.ended", "stopped")
    return row


async def on_state(
    uow: UnitOfWork, meeting_id: str, broadcast_id: str, state: str, reason: str | None
) -> Broadcast | None:
    """Apply a media report ("live", "reconnecting", "failed", "ended"); a report on a
    broadcast that is over (or unknown, or of another meeting) changes nothing."""
    row = await repository.by_id(uow.session, broadcast_id)
    if row is None or row.meeting_id != meeting_id or row.ended_at is not None:
        return None
    meeting = await uow.session.get(Meeting, meeting_id)
    if meeting is None:
        return None
    kind: EventType
    if state == "live":
        if row.state == "live":
            return row
        row.state = "live"
        kind = "streaming.connected"
    elif state == "reconnecting":
        row.reconnects += 1
        if row.state == "reconnecting":
            await uow.session.flush()
            return row  # counted; already announced
        row.state = "reconnecting"
        kind = "streaming.reconnecting"
    elif state in ENDED_STATES:
        failed = state == "failed"
        _close(row, "failed" if failed else "ended", reason)
        kind = "streaming.error" if failed else "streaming.ended"
    else:
        return None
    await uow.session.flush()
    said = reason[:MAX_REASON] if reason and kind != "streaming.connected" else None
    await _emit(uow, meeting, row, kind, said)
    return row


async def end_all(
    uow: UnitOfWork, meeting_id: str, *, failed: bool, reason: str
) -> Sequence[Broadcast]:
    """End every running broadcast of the meeting (its media is lost: ``failed``)."""
    meeting = await uow.session.get(Meeting, meeting_id)
    if meeting is None:
        return []
    ended = [row for row, _ in await repository.running_with_users(uow.session, meeting_id)]
    for row in ended:
        _close(row, "failed" if failed else "ended", reason)
    await uow.session.flush()
    for row in ended:
        await _emit(uow, meeting, row, "streaming.error" if failed else "streaming.ended", reason)
    return ended


def meeting_end_handler(hub: EventHub) -> TransactionalHandler:
    """A transactional handler: when a meeting ends, its broadcasts end in the same
    transaction (the outbox and the webhooks get ``streaming.ended``; the meeting's sockets
    close with the meeting). The media room closes with the calls."""

    async def handle(session: AsyncSession, _row: OutboxEvent, event: ev.Event) -> None:
        if not isinstance(event, ev.MeetingEnded):
            return
        for row, _ in await repository.running_with_users(session, event.meeting_id):
            _close(row, "ended", "meeting_ended")
            await session.flush()
            await hub.record(
                session,
                ev.BroadcastChanged(
                    type="streaming.ended",
                    team_id=event.team_id,
                    meeting_id=event.meeting_id,
                    broadcast_id=row.id,
                    reason="meeting_ended",
                ),
            )

    return handle
