"""Meetings: start or join, read, list, users, guests, lock, kick, messages, end."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson import shapes
from vidroom.api.eyeson.auth import api_key_of, team_of
from vidroom.api.eyeson.egress_state import room_fields
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.request import params
from vidroom.kit.params import get_bool, get_dict, get_str
from vidroom.meetings import actions, live
from vidroom.meetings.models import Meeting
from vidroom.meetings.options import from_params
from vidroom.state import AppState
from vidroom.teams import repository as teams_repository

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])

NO_BODY = {"description": "no body"}


async def _team_name(session: AsyncSession, meeting: Meeting) -> str:
    team = await teams_repository.team_by_id(session, meeting.team_id)
    return team.name if team is not None else ""


async def _joined_response(
    state: AppState, session: AsyncSession, joined: live.Joined, team_name: str | None = None
) -> JSONResponse:
    """201 with the room response (``team_name`` None: looked up)."""
    body = shapes.room_response(
        state.settings,
        joined.meeting,
        joined.participant,
        joined.access_key,
        team_name if team_name is not None else await _team_name(session, joined.meeting),
        **await room_fields(session, state.settings, joined.meeting, state.media, state.playbacks),
    )
    return JSONResponse(body, status_code=201)


def _user(p: dict[str, Any], *prefix: str, account_id: str | None = None) -> live.UserSpec:
    """The user fields under ``prefix`` (``user[...]`` for hosts; top level for guests)."""
    scope = get_dict(p, *prefix) if prefix else p
    scope = scope or {}
    return live.UserSpec(
        name=get_str(scope, "name") or "",
        user_id=get_str(scope, "id"),
        avatar=get_str(scope, "avatar"),
        account_id=account_id,
        custom_fields=get_dict(scope, "custom_fields"),
    )


@router.post(
    "/rooms",
    status_code=201,
    summary="Start a meeting, or join the running one with the same id",
    description=(
        "Parameters: `id`, `name`, `user[name]` (required), `user[id]`, `user[avatar]`, "
        "`options[...]`. Auth: the API key in `Authorization`."
    ),
)
async def start_or_join(request: Request, state: StateDep) -> JSONResponse:
    p = await params(request)
    async with state.db.uow() as uow:
        team, key = await team_of(request, uow.session)
        joined = await live.start_or_join(
            uow,
            team,
            room_key=get_str(p, "id"),
            name=get_str(p, "name"),
            user=_user(p, "user"),
            options=from_params(p),
            api_key_id=key.id,
        )
        response = await _joined_response(state, uow.session, joined, team.name)
        if joined.started:
            meeting_id = joined.meeting.id

            async def prepare() -> None:
                await state.supervisor.prepare(meeting_id)

            uow.after_commit(prepare)
    return response


@router.get("/rooms", summary="Running meetings of the API key's team")
async def list_rooms(request: Request, state: StateDep) -> list[dict[str, Any]]:
    async with state.db.uow() as uow:
        team, _ = await team_of(request, uow.session)
        return [shapes.room_info(m) for m in await live.running_meetings(uow.session, team)]


# the handlers below answer with a JSONResponse (no re-encoding of the dict); response_model
# keeps the OpenAPI schema a dict return gave
@router.get(
    "/rooms/{access_key}",
    response_model=dict[str, Any],
    summary="The meeting as a participant sees it",
)
async def get_room(access_key: str, state: StateDep) -> JSONResponse:
    async with state.db.reader() as uow:
        found = await live.room_access(uow.session, access_key)
        fields = await room_fields(
            uow.session, state.settings, found.meeting, state.media, state.playbacks
        )
    return JSONResponse(
        shapes.room_response(
            state.settings,
            found.meeting,
            found.participant,
            access_key,
            found.team_name,
            **fields,
        )
    )


@router.delete(
    "/rooms/{key}",
    status_code=204,
    responses={204: NO_BODY},
    summary="End a meeting for everyone: by access key, or by room id with the API key",
)
async def end_meeting(key: str, request: Request, state: StateDep) -> Response:
    async with state.db.uow() as uow:
        meeting = await _meeting_by_access_key_or_room_id(request, uow.session, key)
        await live.end(uow, meeting, reason="api")
    return Response(status_code=204)


async def _meeting_by_access_key_or_room_id(
    request: Request, session: AsyncSession, key: str
) -> Meeting:
    gone: errors.VidroomError | None = None
    try:
        meeting, _ = await live.access(session, key)
        return meeting
    except errors.VidroomError as exc:
        if exc.kind is errors.ErrorKind.gone:
            gone = exc
    if api_key_of(request) is not None:
        team, _ = await team_of(request, session)
        try:
            return await live.running_meeting(session, team, key)
        except errors.VidroomError:
            if gone is not None:
                raise gone from None
            raise
    if gone is not None:
        raise gone
    raise errors.not_found("room_not_found", "unknown access key or room id")


@router.get("/rooms/{room_id}/users", summary="Participants of a running meeting (API key)")
async def list_users(room_id: str, request: Request, state: StateDep) -> list[dict[str, Any]]:
    p = await params(request)
    online = get_bool(p, "online")
    async with state.db.uow() as uow:
        team, _ = await team_of(request, uow.session)
        meeting = await live.running_meeting(uow.session, team, room_id)
        found = await live.participants(uow.session, meeting, online=online)
        return [shapes.participant_info(x, meeting) for x in found]


@router.get(
    "/rooms/{access_key}/users/{user_id}",
    response_model=dict[str, Any],
    summary="A participant, by user or client id",
)
async def get_user(access_key: str, user_id: str, state: StateDep) -> JSONResponse:
    async with state.db.reader() as uow:
        found = await live.room_access(uow.session, access_key, user=user_id)
    if found.user is None:
        raise errors.not_found("user_not_found", "no such user in this meeting")
    return JSONResponse(shapes.user_summary(found.user))


@router.delete("/rooms/{access_key}/users/{user_id}", summary="Kick a participant")
async def kick(access_key: str, user_id: str, state: StateDep) -> Response:
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        if not meeting.options.get("kick_available", True):
            raise errors.forbidden("kick_unavailable", "kicking is not enabled for this meeting")
        target = await live.find_user(uow.session, meeting, user_id)
        await actions.kick(uow, meeting, target)
    return Response(status_code=200)


@router.post(
    "/guests/{guest_token}",
    status_code=201,
    summary="Join a running meeting as a guest (no credentials)",
    description="Parameters: `name` (required), `id`, `avatar`, `custom_fields[...]`.",
)
async def join_guest(guest_token: str, request: Request, state: StateDep) -> JSONResponse:
    p = await params(request)
    async with state.db.uow() as uow:
        joined = await live.join_as_guest(uow, guest_token, _user(p))
        return await _joined_response(state, uow.session, joined)


@router.post(
    "/rooms/{access_key}/lock",
    status_code=201,
    responses={201: NO_BODY},
    summary="Lock the meeting: nobody new may join",
)
async def lock(access_key: str, state: StateDep) -> Response:
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        await actions.lock(uow, meeting)
    return Response(status_code=201)


@router.post(
    "/rooms/{access_key}/messages",
    status_code=201,
    responses={201: NO_BODY},
    summary="Send a chat (`type=chat`) or custom (`type=custom`) message to everyone",
)
async def send_message(access_key: str, request: Request, state: StateDep) -> Response:
    p = await params(request)
    # a message writes no row (it is an ephemeral event, published once the unit ends)
    async with state.db.reader() as uow:
        meeting, sender = await live.access(uow.session, access_key)
        await actions.send_message(
            uow, meeting, sender, kind=get_str(p, "type"), content=get_str(p, "content")
        )
    return Response(status_code=201)
