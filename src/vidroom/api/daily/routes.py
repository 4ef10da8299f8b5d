"""The team API (Daily.co's 2018 API): domains, rooms, members and meeting history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.accounts import service as accounts
from vidroom.accounts.models import User
from vidroom.api.daily import schemas
from vidroom.api.daily.body import body_doc, parse
from vidroom.api.daily.errors import DailyRoute
from vidroom.api.deps import StateDep
from vidroom.kit.clock import utc_now
from vidroom.meetings import service as meetings
from vidroom.rooms import service as rooms
from vidroom.rooms.models import Room
from vidroom.settings import Settings
from vidroom.teams import service as teams
from vidroom.teams.models import Team

_bearer = HTTPBearer(auto_error=False, description="a developer token")

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.ErrorInfo, "description": text}
    for status, text in {
        400: "invalid input",
        401: "missing, unknown or revoked developer token",
        403: "not a member / not an owner",
        404: "unknown team, room or user",
        409: "name taken, or the last owner",
        413: "body too large",
    }.items()
}

router = APIRouter(route_class=DailyRoute, tags=["team API"], responses=ERRORS)


def bearer_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    if credentials is None:
        header = request.headers.get("authorization")
        if header:
            raise errors.unauthenticated(
                "token_invalid", "the Authorization header must be 'Bearer <developer token>'"
            )
        raise errors.unauthenticated("token_missing", "an 'Authorization: Bearer' token is needed")
    return credentials.credentials


TokenDep = Annotated[str, Depends(bearer_token)]


def room_url(settings: Settings, team: Team, room: Room) -> str:
    return f"{settings.base_url}/{team.name}/{room.name}"


def invite_link(settings: Settings, team: Team) -> str:
    return f"{settings.base_url}/invite?tk={team.invite_token}"


def room_info(settings: Settings, team: Team, room: Room) -> schemas.RoomInfo:
    return schemas.RoomInfo(
        name=room.name,
        dialInPIN=room.dial_in_pin,
        privacy=room.privacy,
        url=room_url(settings, team, room),
    )


async def team_info(session: AsyncSession, settings: Settings, team: Team) -> schemas.TeamInfo:
    users: dict[str, schemas.UserInfo] = {}
    for membership, user in await teams.members(session, team):
        users[user.email] = schemas.UserInfo(
            email=user.email,
            role=membership.role,
            name=user.name,
            avatarSrc=user.avatar_url,
        )
    return schemas.TeamInfo(
        name=team.name,
        teamInviteLink=invite_link(settings, team),
        rooms=[room_info(settings, team, r) for r in await rooms.list_rooms(session, team)],
        users=users,
    )


async def _member_team(session: AsyncSession, token: str, name: str) -> tuple[User, Team]:
    user = await accounts.user_for_developer_token(session, token)
    team = await teams.get(session, name)
    await teams.require_member(session, team, user)
    return user, team


@router.post(
    "/domains/claim",
    response_model=schemas.TeamInfo,
    response_model_exclude_none=True,
    openapi_extra=body_doc(schemas.ClaimRequest),
    summary="Create a team (a domain) owned by the token's user",
)
async def claim(request: Request, state: StateDep, token: TokenDep) -> schemas.TeamInfo:
    body = await parse(request, schemas.ClaimRequest)
    name = body.domain if body.domain is not None else body.name
    async with state.db.uow() as uow:
        user = await accounts.user_for_developer_token(uow.session, token)
        team = await teams.claim(uow.session, user, name)
        return await team_info(uow.session, state.settings, team)


@router.get(
    "/domains/by-name/{team}",
    response_model=schemas.TeamInfo,
    response_model_exclude_none=True,
    summary="Invite link, rooms and members of a team",
)
async def get_team(team: str, state: StateDep, token: TokenDep) -> schemas.TeamInfo:
    async with state.db.uow() as uow:
        _, found = await _member_team(uow.session, token, team)
        return await team_info(uow.session, state.settings, found)


@router.post(
    "/domains/by-name/{team}/room",
    response_model=schemas.RoomInfo,
    openapi_extra=body_doc(schemas.RoomCreateRequest),
    summary="Create a room (any member)",
)
async def create_room(
    team: str, request: Request, state: StateDep, token: TokenDep
) -> schemas.RoomInfo:
    body = await parse(request, schemas.RoomCreateRequest)
    async with state.db.uow() as uow:
        user, found = await _member_team(uow.session, token, team)
        room = await rooms.create(uow.session, found, user, name=body.name, privacy=body.privacy)
        return room_info(state.settings, found, room)


@router.post(
    "/domains/by-name/{team}/room/{room}",
    response_model=schemas.Updated,
    openapi_extra=body_doc(schemas.PrivacyRequest),
    summary="Change a room's privacy (owners)",
)
async def update_room(
    team: str, room: str, request: Request, state: StateDep, token: TokenDep
) -> schemas.Updated:
    body = await parse(request, schemas.PrivacyRequest)
    async with state.db.uow() as uow:
        user, found = await _member_team(uow.session, token, team)
        await rooms.set_privacy(uow.session, found, user, room, body.privacy)
        return schemas.Updated(updated=True)


@router.delete(
    "/domains/by-name/{team}/room/{room}",
    response_model=schemas.Deleted,
    summary="Delete a room (owners)",
)
async def delete_room(team: str, room: str, state: StateDep, token: TokenDep) -> schemas.Deleted:
    async with state.db.uow() as uow:
        user, found = await _member_team(uow.session, token, team)
        await rooms.delete(uow.session, found, user, room)
        return schemas.Deleted(deleted=True)


@router.delete(
    "/domains/by-name/{team}/user/{email}",
    response_model=schemas.Deleted,
    summary="Remove a member (owners; or a member removing themselves)",
)
async def remove_member(team: str, email: str, state: StateDep, token: TokenDep) -> schemas.Deleted:
    async with state.db.uow() as uow:
        user, found = await _member_team(uow.session, token, team)
        await teams.remove_member(uow.session, found, user, email)
        return schemas.Deleted(deleted=True)


def parse_time(value: object, field: str) -> datetime:
    """Unix seconds (number or numeric string) or an ISO-8601 string, as UTC."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, str):
            text = value.strip()
            if text.replace(".", "", 1).isdigit():
                return datetime.fromtimestamp(float(text), UTC)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise errors.invalid(f"{field}_invalid", f"'{field}' must be unix seconds or an ISO-8601 time")


def minute(value: datetime) -> str:
    """The history's times: ISO-8601 UTC, rounded to the nearest minute."""
    rounded = (value + timedelta(seconds=30)).replace(second=0, microsecond=0)
    return rounded.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@router.post(
    "/domains/by-name/{team}/meetings",
    response_model=schemas.MeetingsInfo,
    openapi_extra=body_doc(schemas.MeetingsRequest),
    summary="Meeting sessions between start and end (at most 100 a call)",
)
async def meeting_history(
    team: str, request: Request, state: StateDep, token: TokenDep
) -> schemas.MeetingsInfo:
    body = await parse(request, schemas.MeetingsRequest)
    start = (
        parse_time(body.start, "start")
        if body.start is not None
        else datetime(1970, 1, 1, tzinfo=UTC)
    )
    end = parse_time(body.end, "end") if body.end is not None else utc_now()
    async with state.db.uow() as uow:
        _, found = await _member_team(uow.session, token, team)
        found_sessions, more = await meetings.history(
            uow.session, team_id=found.id, start=start, end=end, room_name=body.room
        )
    return schemas.MeetingsInfo(
        meetings=[
            schemas.MeetingInfo(
                domain=found.name,
                room=s.room,
                mtgStart=minute(s.start),
                mtgEnd=minute(s.end) if s.end else None,
                participants=[
                    schemas.Participant(
                        email=stay.who,
                        mtgJoin=minute(stay.joined),
                        mtgLeave=minute(stay.left) if stay.left else None,
                    )
                    for stay in s.stays
                ],
            )
            for s in found_sessions
        ],
        moreResults=more,
    )
