"""A team room's page, ``/{team}/{room}``: the team API's meeting link (routes.py adds it after
every other route; the path never matches a reserved first segment such as /static, /docs or
/domains, so it shadows nothing even as a catch-all of two segments).

``GET`` shows the room and, to whoever may enter it, a form to join its meeting. ``GET`` never
joins: a link preview or a prefetch creates no participant. The form posts (with the CSRF
token) to the same path, handled by :func:`vidroom.web.join.join_room`, which joins through the
meeting API's core and sends the browser to the meeting page, ``/join?<access key>``.

Who may enter, by the room's privacy (daily-v0.md; ``rooms.service.may_enter``):

* ``public``: anyone with the link. A logged-in person joins under their account (their email
  is in the team API's meeting history); an anonymous visitor types a display name and joins
  as a guest (``"guest"`` in the history). The name may be given as ``?name=`` (embedding).
* ``org`` (the default): members of the team only.
* ``private``: owners of the team only (the hosted API let others in with meeting tokens,
  which vidroom does not have).

Refusals: unknown team or room, a 404 page; an anonymous visitor of an ``org`` or ``private``
room, a redirect to log in (and back here) with a notice saying who may enter; a logged-in
person who may not enter, a 403 page saying who may.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from vidroom.accounts.models import User
from vidroom.api.deps import get_state
from vidroom.errors import VidroomError
from vidroom.meetings import live
from vidroom.rooms import service as rooms
from vidroom.rooms.models import Privacy, Room
from vidroom.settings import Settings
from vidroom.teams import service as teams
from vidroom.teams.models import Team
from vidroom.teams.names import RESERVED_TEAM_NAMES
from vidroom.web.render import (
    current_user,
    error_page,
    redirect,
    render,
    settings_of,
)

# --- the room page's path: never a reserved first segment --------------------------------------


class _TeamSegment(Convertor[str]):
    regex = (
        r"(?!(?i:"
        + "|".join(sorted(RESERVED_TEAM_NAMES, key=len, reverse=True))
        + r")(?:/|$))[A-Za-z0-9_-]{1,64}"
    )

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _RoomSegment(_TeamSegment):
    regex = r"[A-Za-z0-9_-]{1,64}"


register_url_convertor("vidroom_team", _TeamSegment())
register_url_convertor("vidroom_room", _RoomSegment())

PATH = "/{team:vidroom_team}/{room:vidroom_room}"


@dataclass
class RoomView:
    name: str
    path: str
    url: str
    pin: str
    privacy: str


def room_view(settings: Settings, team_name: str, room: Room) -> RoomView:
    return RoomView(
        name=room.name,
        path=f"/{team_name}/{room.name}",
        url=f"{settings.base_url}/{team_name}/{room.name}",
        pin=room.dial_in_pin,
        privacy=room.privacy,
    )


# --- who is at the door -------------------------------------------------------------------------


@dataclass
class Door:
    """A visitor at a room's door: the team and room (for use inside the unit of work), what
    the page shows of them (plain values, usable after it), and whether the visitor may enter.
    """

    team: Team
    room: Room
    view: RoomView
    team_name: str
    user: User | None
    member: bool  # the visitor is a member of the team
    allowed: bool


async def door(
    session: AsyncSession, settings: Settings, user: User | None, team: str, room: str
) -> Door | None:
    """The room at ``/{team}/{room}`` as ``user`` (None: anonymous) meets it; None when there
    is no such team or room."""
    try:
        found_team = await teams.get(session, team)
        found_room = await rooms.get(session, found_team, room)
    except VidroomError:
        return None
    member = False
    if user is not None:
        try:
            await teams.require_member(session, found_team, user)
            member = True
        except VidroomError:
            pass
    return Door(
        team=found_team,
        room=found_room,
        view=room_view(settings, found_team.name, found_room),
        team_name=found_team.name,
        user=user,
        member=member,
        allowed=await rooms.may_enter(session, found_team, found_room, user),
    )


def default_name(request: Request, user: User | None) -> str:
    """What the name field holds at first: ``?name=`` (daily-v0 embedding), else the account's
    display name, else the part of its email before the ``@``."""
    given = request.query_params.get("name", "").strip()[: live.MAX_NAME]
    if given:
        return given
    if user is None:
        return ""
    return user.name or user.email.split("@", 1)[0]


def no_such_room(request: Request, user: User | None, team: str, room: str) -> Response:
    return error_page(request, user, 404, "No such room", f"There is no room at /{team}/{room}.")


def _who_may_enter(privacy: str, team: str) -> str:
    if privacy == Privacy.private.value:
        return f"only owners of team {team} may join it"
    return f"only members of team {team} may join it"


def refusal(request: Request, found: Door) -> Response:
    """Someone who may not enter: anonymous → log in (then back here); logged in → 403."""
    who = _who_may_enter(found.view.privacy, found.team_name)
    if found.user is None:
        location = "/login?" + urlencode({"next": found.view.path})
        notice = f"The room {found.view.name} is not public: {who}. Log in to join it."
        return redirect(location, notice, settings=settings_of(request))
    return error_page(
        request,
        found.user,
        403,
        "You may not enter",
        f"The room {found.view.name} is not open to you: {who}.",
    )


async def _in_meeting(session: AsyncSession, found: Door) -> int:
    """How many people are in the room's meeting now (0 when none runs)."""
    try:
        meeting = await live.running_meeting(session, found.team, found.view.name)
    except VidroomError:
        return 0
    return len(await live.participants(session, meeting, online=True))


async def show(
    request: Request,
    team: str,
    room: str,
    *,
    name: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The room page, or the refusal the visitor gets; ``name``/``error``/``status`` re-show
    the form after a failed join."""
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
        found = await door(uow.session, settings_of(request), user, team, room)
        if found is None:
            return no_such_room(request, user, team, room)
        if not found.allowed:
            return refusal(request, found)
        in_meeting = await _in_meeting(uow.session, found)
    return render(
        request,
        "room.html",
        user,
        status,
        room=found.view,
        team_name=found.team_name,
        join_name=default_name(request, user) if name is None else name,
        join_error=error,
        in_meeting=in_meeting,
        max_name=live.MAX_NAME,
    )


async def room_page(request: Request, team: str, room: str) -> Response:
    return await show(request, team, room)
