"""The meeting page, ``/join``: where the meeting API's room links lead.

* ``/join?<access key>`` (``links.gui``): a participant's view of a running meeting.
* ``/join?guest=<guest token>`` (``links.guest_join``): the guest entrance, a form asking for a
  display name; ``POST /join`` joins and redirects to the new participant's ``/join?<key>``.

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
from vidroom.errors import ErrorKind, VidroomError
from vidroom.meetings import live
from vidroom.meetings.models import Meeting, Participant
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
            message = exc.message[:1].upper() + exc.message[1:] + "."
            return await _guest_form(
                request, token, name=name, error=message, status=status_of(exc)
            )
        async with state.db.uow() as uow:
            user = await current_user(uow.session, request)
        return _refusal(request, user, exc)
    return RedirectResponse(f"/join?{access_key}", status_code=303)
