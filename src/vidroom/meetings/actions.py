"""What participants do in a running meeting: lock it, kick someone, send a message, mute all."""

from __future__ import annotations

from vidroom import errors
from vidroom.db.uow import UnitOfWork
from vidroom.events import catalogue as ev
from vidroom.meetings import service as history
from vidroom.meetings.models import Meeting, Participant

MAX_MESSAGE = 10_000


def _option(meeting: Meeting, name: str, default: bool) -> bool:
    return bool(meeting.options.get(name, default))


async def lock(uow: UnitOfWork, meeting: Meeting) -> None:
    if not _option(meeting, "lock_available", False):
        raise errors.forbidden("lock_unavailable", "locking is not enabled for this meeting")
    if meeting.locked:
        return
    meeting.locked = True
    await uow.session.flush()
    await uow.emit(ev.MeetingLocked(team_id=meeting.team_id, meeting_id=meeting.id))


async def kick(uow: UnitOfWork, meeting: Meeting, target: Participant) -> None:
    if not _option(meeting, "kick_available", True):
        raise errors.forbidden("kick_unavailable", "kicking is not enabled for this meeting")
    if target.online:
        await history.left(uow.session, meeting, participant_key=target.id)
    target.online = False
    await uow.session.flush()
    await uow.emit(
        ev.ParticipantChanged(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            participant_id=target.id,
            online=False,
            kicked=True,
        )
    )


async def send_message(
    uow: UnitOfWork, meeting: Meeting, sender: Participant, *, kind: str | None, content: str | None
) -> None:
    if kind not in ("chat", "custom"):
        raise errors.invalid("invalid_parameter", "type must be 'chat' or 'custom'")
    if content is None or content == "":
        raise errors.invalid("missing_parameter", "content is required")
    if len(content) > MAX_MESSAGE:
        raise errors.invalid("invalid_parameter", f"content has at most {MAX_MESSAGE} characters")
    if "\x00" in content:
        raise errors.invalid("invalid_parameter", "content contains a NUL character")
    await uow.emit(
        ev.MessageSent(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            kind="chat" if kind == "chat" else "custom",
            content=content,
            client_id=sender.client_id,
            user_id=sender.user_id,
        )
    )


async def mute_all(uow: UnitOfWork, meeting: Meeting, sender: Participant) -> None:
    await uow.emit(
        ev.MuteAll(team_id=meeting.team_id, meeting_id=meeting.id, participant_id=sender.id)
    )
