"""Use cases of running meetings (the meeting API's control plane): start or join, guests,
access keys, presence, kick, lock, messages, ending."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.accounts import repository as accounts_repository
from vidroom.db.uow import UnitOfWork
from vidroom.events import catalogue as ev
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id, random_token, same, token_hash
from vidroom.meetings import repository
from vidroom.meetings import service as history
from vidroom.meetings.models import AccessKey, Meeting, Participant
from vidroom.meetings.presence import presence
from vidroom.rooms import repository as rooms_repository
from vidroom.teams.models import Team

ACCESS_KEY_LENGTH = 24
GUEST_TOKEN_LENGTH = 24
MAX_NAME = 200
MAX_ID = 128
MAX_ROOM_KEY = 200
MAX_PARTICIPANTS = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class UserSpec:
    name: str
    user_id: str | None = None
    avatar: str | None = None
    account_id: str | None = None
    custom_fields: dict[str, Any] | None = None


@dataclass(frozen=True)
class Joined:
    meeting: Meeting
    participant: Participant
    access_key: str
    started: bool


def _clean_text(value: str | None, what: str, limit: int, *, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise errors.invalid("missing_parameter", f"{what} is required")
        return None
    value = value.strip()
    if len(value) > limit:
        raise errors.invalid("invalid_parameter", f"{what} has at most {limit} characters")
    if _CONTROL.search(value):
        raise errors.invalid("invalid_parameter", f"{what} contains control characters")
    return value


def _clean_avatar(value: str | None) -> str | None:
    value = _clean_text(value, "user[avatar]", 2000)
    if value is not None and not value.startswith(("https://", "http://")):
        raise errors.invalid("invalid_parameter", "user[avatar] must be an http(s) URL")
    return value


def check_name(value: str | None) -> str:
    """A display name as every entrance takes it: required, trimmed, at most ``MAX_NAME``
    characters, no control characters (else ``invalid``, with a message for people)."""
    return _clean_text(value, "name", MAX_NAME, required=True) or ""


def check_room_key(value: str | None) -> str | None:
    value = _clean_text(value, "id", MAX_ROOM_KEY)
    if value is not None and "/" in value:
        raise errors.invalid("invalid_parameter", "id must not contain '/'")
    return value


async def _issue_access_key(session: AsyncSession, participant: Participant) -> str:
    plaintext = random_token(ACCESS_KEY_LENGTH)
    session.add(
        AccessKey(
            key_hash=token_hash(plaintext),
            participant_id=participant.id,
            meeting_id=participant.meeting_id,
        )
    )
    await session.flush()
    return plaintext


async def _add_participant(
    uow: UnitOfWork, meeting: Meeting, user: UserSpec, *, guest: bool
) -> Participant:
    session = uow.session
    name = _clean_text(user.name, "user[name]" if not guest else "name", MAX_NAME, required=True)
    custom_id = _clean_text(user.user_id, "user[id]" if not guest else "id", MAX_ID)
    avatar = _clean_avatar(user.avatar)
    if custom_id is not None:
        existing = await repository.participant_by_user_id(session, meeting.id, custom_id)
        if existing is not None:
            return existing
    if meeting.locked:
        raise errors.VidroomError(
            errors.ErrorKind.locked, "meeting_locked", "the meeting is locked"
        )
    if await repository.participant_count(session, meeting.id) >= MAX_PARTICIPANTS:
        raise errors.VidroomError(
            errors.ErrorKind.unavailable, "meeting_full", "the meeting is full"
        )
    generated = new_id()
    participant = Participant(
        meeting_id=meeting.id,
        user_id=custom_id or generated,
        client_id=generated,
        account_id=user.account_id,
        name=name or "",
        avatar=avatar,
        guest=guest,
        custom_fields={str(k): str(v) for k, v in (user.custom_fields or {}).items()},
        joined_at=utc_now(),
        last_seen_at=utc_now(),
    )
    try:
        async with session.begin_nested():
            session.add(participant)
            await session.flush()
    except IntegrityError:
        # the same custom user id joined concurrently: that is one participant
        if custom_id is None:
            raise
        again = await repository.participant_by_user_id(session, meeting.id, custom_id)
        if again is None:
            raise
        return again
    return participant


async def _start(
    uow: UnitOfWork,
    team: Team,
    *,
    room_key: str,
    name: str | None,
    options: dict[str, Any],
    api_key_id: str | None,
) -> Meeting | None:
    """A new meeting, or None when a concurrent request started one first."""
    session = uow.session
    room = await rooms_repository.room_by_name(session, team.id, room_key)
    meeting = Meeting(
        team_id=team.id,
        room_id=room.id if room is not None else None,
        room_key=room_key,
        room_name=name or (room.name if room is not None else room_key),
        api_key_id=api_key_id,
        guest_token=random_token(GUEST_TOKEN_LENGTH),
        options=options,
        started_at=utc_now(),
    )
    try:
        async with session.begin_nested():
            session.add(meeting)
            await session.flush()
    except IntegrityError:
        return None
    await uow.emit(ev.MeetingStarted(team_id=team.id, meeting_id=meeting.id))
    return meeting


async def start_or_join(
    uow: UnitOfWork,
    team: Team,
    *,
    room_key: str | None,
    name: str | None,
    user: UserSpec,
    options: dict[str, Any],
    api_key_id: str | None = None,
    guest: bool = False,
) -> Joined:
    """Join the running meeting of ``room_key`` (starting it if none runs); ``guest`` marks
    the participant as one (e.g. an anonymous visitor of a public team room)."""
    session = uow.session
    key = check_room_key(room_key) or new_id()
    display = _clean_text(name, "name", MAX_NAME)
    started = False
    meeting = await repository.running_meeting(session, team.id, key)
    if meeting is None:
        meeting = await _start(
            uow, team, room_key=key, name=display, options=options, api_key_id=api_key_id
        )
        started = meeting is not None
        if meeting is None:
            meeting = await repository.running_meeting(session, team.id, key)
            if meeting is None:
                raise errors.VidroomError(
                    errors.ErrorKind.unavailable, "try_again", "the meeting is changing; retry"
                )
    participant = await _add_participant(uow, meeting, user, guest=guest)
    access_key = await _issue_access_key(session, participant)
    return Joined(meeting, participant, access_key, started)


async def guest_meeting(session: AsyncSession, guest_token: str) -> Meeting:
    """The meeting a guest token admits to, refused as a guest join would be: 404 unknown,
    410 over, 405 guests disabled. (Lock is checked at join: a known user id may rejoin.)"""
    meeting = None
    if guest_token and len(guest_token) == GUEST_TOKEN_LENGTH:
        meeting = await repository.meeting_by_guest_token(session, guest_token)
    if meeting is None or meeting.guest_token is None or not same(meeting.guest_token, guest_token):
        raise errors.not_found("guest_token_invalid", "unknown guest token")
    if meeting.ended_at is not None:
        raise errors.VidroomError(errors.ErrorKind.gone, "meeting_over", "the meeting is over")
    if not meeting.options.get("guest_token_available", True):
        raise errors.VidroomError(
            errors.ErrorKind.not_allowed, "guests_disabled", "guests may not join this meeting"
        )
    return meeting


async def join_as_guest(uow: UnitOfWork, guest_token: str, user: UserSpec) -> Joined:
    meeting = await guest_meeting(uow.session, guest_token)
    participant = await _add_participant(uow, meeting, user, guest=True)
    access_key = await _issue_access_key(uow.session, participant)
    return Joined(meeting, participant, access_key, False)


@dataclass(frozen=True)
class Access:
    """An access key's meeting, participant and team name; ``user``: the one asked for."""

    meeting: Meeting
    participant: Participant
    team_name: str
    user: Participant | None = None


async def room_access(session: AsyncSession, access_key: str, user: str | None = None) -> Access:
    """An access key's meeting, participant, team name and (``user``: a user or client id, as
    :func:`find_user` takes it) that participant, in one query: 404 unknown, 410 over."""
    if not access_key or len(access_key) > 100:
        raise errors.not_found("access_key_invalid", "unknown access key")
    digest = token_hash(access_key)
    ident = None if user is None else user.split("@", 1)[0]
    found = await repository.access(session, digest, ident)
    if found is None or not same(found[0], digest):
        raise errors.not_found("access_key_invalid", "unknown access key")
    _, meeting, participant, team_name, other = found
    if meeting.ended_at is not None:
        raise errors.VidroomError(errors.ErrorKind.gone, "meeting_over", "the meeting is over")
    return Access(meeting, participant, team_name or "", other)


async def access(session: AsyncSession, access_key: str) -> tuple[Meeting, Participant]:
    """The meeting and participant an access key belongs to: 404 unknown, 410 meeting over."""
    found = await room_access(session, access_key)
    return found.meeting, found.participant


async def running_meetings(session: AsyncSession, team: Team) -> Sequence[Meeting]:
    return await repository.running_meetings(session, team.id)


async def running_meeting(session: AsyncSession, team: Team, room_key: str) -> Meeting:
    meeting = await repository.running_meeting(session, team.id, room_key)
    if meeting is None:
        raise errors.not_found("room_not_found", "no running meeting with that room id")
    return meeting


async def participants(
    session: AsyncSession, meeting: Meeting, *, online: bool | None = None
) -> Sequence[Participant]:
    return await repository.participants_of(session, meeting.id, online)


async def find_user(session: AsyncSession, meeting: Meeting, user_or_client_id: str) -> Participant:
    """By user id or signalling client id (a legacy ``@domain`` suffix is ignored)."""
    ident = user_or_client_id.split("@", 1)[0]
    found = await repository.participant_by_user_id(session, meeting.id, ident)
    if found is None:
        found = await repository.participant_by_client_id(session, meeting.id, ident)
    if found is None:
        raise errors.not_found("user_not_found", "no such user in this meeting")
    return found


async def participant_by_id(session: AsyncSession, participant_id: str) -> Participant | None:
    return await session.get(Participant, participant_id)


# --- presence ----------------------------------------------------------------------------------


async def seen(uow: UnitOfWork, participant: Participant, *, online: bool | None = None) -> None:
    """Presence: the participant is here now; ``online`` also changes their state."""
    participant.last_seen_at = utc_now()
    await uow.session.flush()
    if online is not None:
        await set_online(uow, participant, online)


async def set_online(uow: UnitOfWork, participant: Participant, online: bool) -> None:
    """Change whether the participant is in the meeting: recorded for the history, announced.
    Going offline is refused while a live connection in this process holds them (``presence``).
    """
    if online == participant.online or (not online and presence.held(participant.id)):
        return
    meeting = await uow.session.get(Meeting, participant.meeting_id)
    if meeting is None or (online and meeting.ended_at is not None):
        return
    participant.online = online
    if online:
        await history.joined(
            uow.session,
            meeting,
            participant_key=participant.id,
            user_id=participant.account_id,
            email=await _account_email(uow.session, participant),
            display_name=participant.name,
        )
    else:
        await history.left(uow.session, meeting, participant_key=participant.id)
    await uow.session.flush()
    await uow.emit(
        ev.ParticipantChanged(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            participant_id=participant.id,
            online=online,
        )
    )


async def _account_email(session: AsyncSession, participant: Participant) -> str | None:
    if participant.account_id is None:
        return None
    user = await accounts_repository.user_by_id(session, participant.account_id)
    return user.email if user is not None else None


async def mark_ready(uow: UnitOfWork, meeting_id: str) -> Meeting | None:
    meeting = await uow.session.get(Meeting, meeting_id)
    if meeting is None or meeting.ended_at is not None or meeting.ready:
        return meeting
    meeting.ready = True
    await uow.session.flush()
    await uow.emit(ev.MeetingReady(team_id=meeting.team_id, meeting_id=meeting.id))
    return meeting


async def end(uow: UnitOfWork, meeting: Meeting, *, reason: str = "api") -> None:
    """End the meeting for everyone (idempotent)."""
    if meeting.ended_at is not None:
        return
    now = utc_now()
    for participant in await repository.participants_of(uow.session, meeting.id, True):
        participant.online = False
    await history.end(uow.session, meeting, at=now)
    meeting.ended_at = now
    meeting.ready = False
    await uow.session.flush()
    await uow.emit(
        ev.MeetingEnded(
            team_id=meeting.team_id,
            meeting_id=meeting.id,
            reason="api" if reason == "api" else "empty",
        )
    )


# --- media signalling (SEPP) -------------------------------------------------------------------


async def meeting_by_id(session: AsyncSession, meeting_id: str) -> Meeting | None:
    return await session.get(Meeting, meeting_id)


async def participant_by_client(
    session: AsyncSession, meeting_id: str, client_id: str
) -> Participant | None:
    """The meeting's participant with this signalling client id (exact; no ``@domain``)."""
    return await repository.participant_by_client_id(session, meeting_id, client_id)


async def has_attended(session: AsyncSession, participant: Participant) -> bool:
    """Whether the participant was in the meeting's call before (a locked meeting lets them
    back in)."""
    rows = await repository.attendances(session, [participant.meeting_id])
    return any(row.participant_key == participant.id for row in rows)


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    """Running meetings, their participants, and those of them online (for metrics)."""
    return await repository.counts(session)
