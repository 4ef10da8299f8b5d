"""A team room's page, ``/{team}/{room}``: routes.py adds it after every other route.

The path never matches a reserved first segment (/static, /docs, /domains...), so it shadows
nothing even as a catch-all of two segments.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from vidroom.api.deps import get_state
from vidroom.errors import VidroomError
from vidroom.rooms import service as rooms
from vidroom.rooms.models import Privacy, Room
from vidroom.settings import Settings
from vidroom.teams import service as teams
from vidroom.teams.names import RESERVED_TEAM_NAMES
from vidroom.web.render import (
    current_user,
    error_page,
    login_redirect,
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


def _room_refusal(privacy: str, team: str) -> str:
    if privacy == Privacy.private.value:
        return f"This room is private: only owners of team {team} may enter."
    return f"This room is for members of team {team}."


async def room_page(request: Request, team: str, room: str) -> Response:
    async with get_state(request).db.uow() as uow:
        user = await current_user(uow.session, request)
        try:
            found_team = await teams.get(uow.session, team)
            found_room = await rooms.get(uow.session, found_team, room)
        except VidroomError:
            return error_page(
                request, user, 404, "No such room", f"There is no room at /{team}/{room}."
            )
        allowed = await rooms.may_enter(uow.session, found_team, found_room, user)
        view = room_view(settings_of(request), found_team.name, found_room)
        team_name = found_team.name
    if not allowed:
        if user is None:
            return login_redirect(request.url.path)
        return error_page(
            request, user, 403, "You may not enter", _room_refusal(view.privacy, team_name)
        )
    return render(request, "room.html", user, room=view, team_name=team_name)
