"""The meeting page, ``/join``: where the meeting API's room links lead.

* ``/join?<access key>`` (``links.gui``): a participant's view of a running meeting.
* ``/join?guest=<guest token>`` (``links.guest_join``): the guest entrance, a form asking for a
  display name; ``POST /join`` joins and redirects to the new participant's ``/join?<key>``.
* ``POST /{team}/{room}``: the team room page's form (web/room_page.py, which decides who may
  enter); joins the room's meeting and redirects to the new participant's ``/join?<key>``.

The access key is the whole query string, so these pages never send a Referer, are never
cached, never put the key into another URL and never log it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from vidroom.accounts.models import User
from vidroom.api.deps import get_state
from vidroom.db.uow import UnitOfWork
from vidroom.errors import ErrorKind, VidroomError
from vidroom.meetings import live
from vidroom.meetings.models import Meeting, Participant
from vidroom.meetings.options import defaults as default_options
from vidroom.web import room_page
from vidroom.web.render import (
    SecretUrlRoute,
    current_user,
    page_router,
    render,
    settings_of,
    status_of,
)
from vidroom.web.security import FormRejected, read_form

router = page_router(SecretUrlRoute)

REFERRER_POLICY = "no-referrer"

# what a refused visitor reads, by the use case's error kind: (title, message)
_REFUSALS: dict[ErrorKind, tuple[str, str]] = {
    ErrorKind.not_found: (
        "Meeting not found",
        "This meeting link is not valid. Ask whoever sent it for a new one.",
    ),
    ErrorKind.gone: ("The meeting has ended", "This meeting has ended: nobody can join it now."),
    ErrorKind.locked: ("The meeting is locked", "The meeting is locked: nobody new may join."),
    ErrorKind.not_allowed: ("Guests may not join", "This meeting does not admit guests."),
    ErrorKind.unavailable: ("The meeting is full", "The meeting cannot take anyone else now."),
}


@dataclass
class ParticipantView:
    name: str
    guest: bool
    online: bool
    is_you: bool


@dataclass
class MeetingView:
    name: str
    ready: bool
    locked: bool
    guest_link: str | None


def _page(
    request: Request, template: str, user: User | None, status: int = 200, **context: object
) -> Response:
    return render(request, template, user, status, referrer_policy=REFERRER_POLICY, **context)


def _refusal(request: Request, user: User | None, exc: VidroomError) -> Response:
    title, message = _REFUSALS.get(exc.kind, ("You cannot join", exc.message))
    return _page(request, "error.html", user, status_of(exc), title=title, message=message)


def _sentence(exc: VidroomError) -> str:
    """A use case's message as a sentence for the page ("name is required" → "Name is ...")."""
    return exc.message[:1].upper() + exc.message[1:] + "."


def _query(request: Request) -> str:
    """The raw query string: for ``links.gui`` (``/join?<access key>``), the access key."""
    raw: bytes = request.scope.get("query_string", b"")
    return raw.decode("latin-1")


def _guest_token(query: str) -> str | None:
    """The guest token of ``/join?guest=<token>``; None when the query is an access key."""
    if not query.startswith("guest="):
        return None
    return parse_qs(query, keep_blank_values=True).get("guest", [""])[0]


# --- a participant's view ------------------------------------------------------------------------


def _meeting_view(request: Request, meeting: Meeting) -> MeetingView:
    guests_welcome = meeting.guest_token and meeting.options.get("guest_token_available", True)
    return MeetingView(
        name=meeting.room_name,
        ready=meeting.ready,
        locked=meeting.locked,
        guest_link=(
            f"{settings_of(request).base_url}/join?guest={meeting.guest_token}"
            if guests_welcome
            else None
        ),
    )


def _participant_view(participant: Participant, me: Participant) -> ParticipantView:
    return ParticipantView(
        name=participant.name,
        guest=participant.guest,
        online=participant.online,
        is_you=participant.id == me.id,
    )


async def _meeting_page(request: Request, access_key: str) -> Response:
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
        try:
            meeting, me = await live.access(uow.session, access_key)
        except VidroomError as exc:
            return _refusal(request, user, exc)
        people = [_participant_view(p, me) for p in await live.participants(uow.session, meeting)]
        view = _meeting_view(request, meeting)
        you = _participant_view(me, me)
    return _page(request, "join.html", user, meeting=view, you=you, participants=people)


# --- the guest entrance ------------------------------------------------------------------------


async def _guest_meeting(session: AsyncSession, token: str) -> Meeting:
    """The meeting a guest token admits to; a locked one is refused before the form."""
    meeting = await live.guest_meeting(session, token)
    if meeting.locked:
        raise VidroomError(ErrorKind.locked, "meeting_locked", "the meeting is locked")
    return meeting


async def _guest_form(
    request: Request,
    token: str,
    *,
    name: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
        try:
            meeting = await _guest_meeting(uow.session, token)
        except VidroomError as exc:
            return _refusal(request, user, exc)
        meeting_name = meeting.room_name
    return _page(
        request,
        "guest.html",
        user,
        status,
        meeting_name=meeting_name,
        guest=token,
        guest_name=name,
        error=error,
        max_name=live.MAX_NAME,
    )


# --- routes -------------------------------------------------------------------------------------


@router.get("/join")
async def join_page(request: Request) -> Response:
    query = _query(request)
    token = _guest_token(query)
    if token is not None:
        return await _guest_form(request, token)
    return await _meeting_page(request, query)


@router.post("/join")
async def join_as_guest(request: Request) -> Response:
    state = get_state(request)
    try:
        form = await read_form(request, state.settings)
    except FormRejected as exc:
        return _page(request, "error.html", None, exc.status, title=exc.title, message=exc.message)
    token, name = form.get("guest", ""), form.get("name", "")
    try:
        async with state.db.uow() as uow:
            joined = await live.join_as_guest(uow, token, live.UserSpec(name=name))
            access_key = joined.access_key
    except VidroomError as exc:
        if exc.kind is ErrorKind.invalid:
            return await _guest_form(
                request, token, name=name, error=_sentence(exc), status=status_of(exc)
            )
        async with state.db.uow() as uow:
            user = await current_user(uow.session, request)
        return _refusal(request, user, exc)
    return RedirectResponse(f"/join?{access_key}", status_code=303)


# --- the team room entrance ---------------------------------------------------------------------

# A team room's meeting: no API key (``Meeting.api_key_id`` is NULL; webhooks are the team's),
# and no guest link: the room's own URL is the only way in, so the room's privacy holds.
TEAM_ROOM_OPTIONS = {**default_options(), "guest_token_available": False}


async def _start_or_join_room(uow: UnitOfWork, found: room_page.Door, name: str) -> live.Joined:
    """The room's meeting (keyed on the team and the room's name, so the meeting API's
    ``id=<room name>`` reaches it too), joined as the visitor: under their account when logged
    in (rejoining as the same participant), else as a guest."""
    user = found.user
    return await live.start_or_join(
        uow,
        found.team,
        room_key=found.room.name,
        name=None,
        user=live.UserSpec(
            name=name,
            user_id=user.id if user is not None else None,
            account_id=user.id if user is not None else None,
        ),
        options=TEAM_ROOM_OPTIONS,
        guest=not found.member,
    )


async def join_room(request: Request, team: str, room: str) -> Response:
    """``POST /{team}/{room}``: join the room's meeting (see web/room_page.py)."""
    state = get_state(request)
    try:
        form = await read_form(request, state.settings)
    except FormRejected as exc:
        return _page(request, "error.html", None, exc.status, title=exc.title, message=exc.message)
    typed = form.get("name", "")
    try:
        async with state.db.uow() as uow:
            user = await current_user(uow.session, request)
            found = await room_page.door(uow.session, state.settings, user, team, room)
            if found is None:
                return room_page.no_such_room(request, user, team, room)
            if not found.allowed:
                return room_page.refusal(request, found)
            joined = await _start_or_join_room(uow, found, live.check_name(typed))
            access_key = joined.access_key
            if joined.started:
                meeting_id = joined.meeting.id

                async def prepare() -> None:
                    await state.supervisor.prepare(meeting_id)

                uow.after_commit(prepare)
    except VidroomError as exc:
        if exc.kind is ErrorKind.invalid:
            return await room_page.show(
                request,
                team,
                room,
                name="".join(c for c in typed if c.isprintable()).strip()[: live.MAX_NAME],
                error=_sentence(exc),
                status=status_of(exc),
            )
        async with state.db.uow() as uow:
            user = await current_user(uow.session, request)
        return _refusal(request, user, exc)
    return RedirectResponse(f"/join?{access_key}", status_code=303)


# after /join's routes; the room page's GET is routes.py's last route
router.add_api_route(room_page.PATH, join_room, methods=["POST"])
