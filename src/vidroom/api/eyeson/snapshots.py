"""Snapshots (spec §3.2, §2.5): a PNG of the composite at full size. ``POST`` takes the
participant's access key; reading, listing and deleting the team's API key (``GET
/rooms/<ak>/snapshots/<id>`` the access key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.api.deps import StateDep
from vidroom.api.eyeson import shapes
from vidroom.api.eyeson.auth import team_of
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.media_access import media_of, refused
from vidroom.api.eyeson.recordings import _page, _when, meetings_of
from vidroom.api.eyeson.request import params
from vidroom.media.contract import MediaError
from vidroom.meetings import live
from vidroom.meetings.models import Meeting, Participant
from vidroom.settings import Settings
from vidroom.snapshots import service as snapshots
from vidroom.snapshots.models import Snapshot
from vidroom.storage.media_store import store_for

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])
MAX_PNG = 64 * 1024 * 1024


async def snapshot_body(session: AsyncSession, settings: Settings, row: Snapshot) -> dict[str, Any]:
    meeting = await session.get(Meeting, row.meeting_id)
    assert meeting is not None
    user = await session.get(Participant, row.participant_id) if row.participant_id else None
    return shapes.snapshot_object(settings, row, user, meeting)


@router.post(
    "/rooms/{access_key}/snapshot",
    status_code=201,
    responses={201: {"description": "no body"}},
    summary="Take a PNG snapshot of the composite (`snapshot_update` carries it)",
    description="406 when nobody is in the call yet; 410.",
)
async def take(access_key: str, request: Request, state: StateDep) -> Response:
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        await snapshots.check_room(uow.session, meeting)
    media = media_of(request)
    try:
        image = await media.snapshot(meeting.id)
    except MediaError as exc:
        raise refused(exc, "snapshot") from None
    if not image.png.startswith(b"\x89PNG\r\n\x1a\n") or len(image.png) > MAX_PNG:
        raise refused(MediaError(500, "not a PNG"), "snapshot")
    store = store_for(state.settings.media_dir)
    key = store.new_key("snapshots", "png")
    size = await store.write(key, image.png)
    try:
        async with state.db.uow() as uow:
            meeting, participant = await live.access(uow.session, access_key)
            await snapshots.record(
                uow, meeting, participant, storage_key=key, size=size,
                width=image.width, height=image.height,
            )  # fmt: skip
    except BaseException:
        await store.delete(key)
        raise
    return Response(status_code=201)


@router.get(
    "/rooms/{access_key}/snapshots/{snapshot_id}",
    response_model=dict[str, Any],
    summary="A snapshot of the meeting, with a fresh download link",
)
async def get_in_meeting(access_key: str, snapshot_id: str, state: StateDep) -> JSONResponse:
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await snapshots.in_meeting(uow.session, meeting, snapshot_id)
        body = await snapshot_body(uow.session, state.settings, row)
    return JSONResponse(body)


@router.get(
    "/snapshots/{snapshot_id}",
    response_model=dict[str, Any],
    summary="A snapshot of the API key's team",
)
async def get_snapshot(snapshot_id: str, request: Request, state: StateDep) -> JSONResponse:
    async with state.db.reader() as uow:
        team, _ = await team_of(request, uow.session)
        row = await snapshots.of_team(uow.session, team.id, snapshot_id)
        body = await snapshot_body(uow.session, state.settings, row)
    return JSONResponse(body)


@router.delete("/snapshots/{snapshot_id}", summary="Delete a snapshot and its file")
async def delete_snapshot(snapshot_id: str, request: Request, state: StateDep) -> Response:
    async with state.db.uow() as uow:
        team, _ = await team_of(request, uow.session)
        row = await snapshots.of_team(uow.session, team.id, snapshot_id)
        key = await snapshots.remove(uow, row)
    await store_for(state.settings.media_dir).delete(key)
    return Response(status_code=200)


@router.get(
    "/rooms/{room_id}/snapshots",
    summary="Snapshots of a room id (API key; the access key works too)",
    description="Newest first, 25 a page: `page` (0 first), `started_at`, `since`, `until`.",
)
async def list_snapshots(room_id: str, request: Request, state: StateDep) -> JSONResponse:
    p = await params(request)
    page, since, until = _page(p), _when(p, "since"), _when(p, "until")
    started_at = _when(p, "started_at")
    async with state.db.reader() as uow:
        team, _ = await team_of(request, uow.session)
        ids = await meetings_of(uow.session, team, room_id, started_at)
        rows = await snapshots.listing(
            uow.session, team.id, meeting_ids=ids, since=since, until=until, page=page
        )
        body = [await snapshot_body(uow.session, state.settings, row) for row in rows]
    return JSONResponse(body)
