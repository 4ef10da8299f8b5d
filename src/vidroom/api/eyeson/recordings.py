"""Recording (spec §3.1 "Recording", §2.4): start, pause/resume (beyond the spec), stop, read,
list, delete. Start/stop/pause take the participant's access key in the path (404 unknown, 410
meeting over); reading, listing and deleting take the team's API key.

The media server records the composite itself (its H.264 packets, one AAC encode of the full
mix) into a fragmented MP4 the media store chose; this edge reserves the meeting's one
recording, asks the media server, and records each step (``recording_update`` on ``/rt``, to
observers and webhooks).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson import shapes
from vidroom.api.eyeson.auth import team_of
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.media_access import media_of, refused
from vidroom.api.eyeson.request import params
from vidroom.kit.params import get_bool, get_page, get_str
from vidroom.media.contract import MediaControl, MediaError, RecordingResult, RecordingTarget
from vidroom.meetings import live
from vidroom.meetings.models import Meeting, Participant
from vidroom.recordings import repository
from vidroom.recordings import service as recordings
from vidroom.recordings.models import Recording
from vidroom.settings import Settings
from vidroom.storage.media_store import MediaStore, store_for
from vidroom.teams.models import Team

log = logging.getLogger(__name__)
router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])
MAX_PAGE = 100_000


async def recording_body(
    session: AsyncSession, settings: Settings, row: Recording
) -> dict[str, Any]:
    meeting = await session.get(Meeting, row.meeting_id)
    assert meeting is not None  # a recording goes with its meeting (cascade)
    user = await session.get(Participant, row.participant_id) if row.participant_id else None
    return shapes.recording_object(settings, row, user, meeting)


@router.post(
    "/rooms/{access_key}/recording",
    status_code=201,
    responses={201: {"description": "no body"}},
    summary="Start recording the meeting",
    description="405 recording off; 406 recording already, or nobody is in the call yet; 410.",
)
async def start(access_key: str, request: Request, state: StateDep) -> Response:
    settings = state.settings
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        await recordings.check_can_start(uow.session, meeting)
    media = media_of(request)
    if not media.members(meeting.id):
        raise errors.not_acceptable("nobody_in_call", "nobody is in the call yet")
    store = store_for(settings.media_dir)
    key = store.new_key("recordings", "mp4")
    await store.prepare(key)
    async with state.db.uow() as uow:
        meeting, participant = await live.access(uow.session, access_key)
        row = await recordings.begin(uow, meeting, participant, key)
        recording_id = row.id
    try:
        await media.start_recording(
            meeting.id, RecordingTarget(recording_id, str(store.path_for(key)))
        )
    except MediaError as exc:
        async with state.db.uow() as uow:
            await recordings.start_failed(uow, recording_id)
        await store.delete(key)
        raise refused(exc, "recording") from None
    except BaseException:
        async with state.db.uow() as uow:
            await recordings.start_failed(uow, recording_id)
        raise
    async with state.db.uow() as uow:
        await recordings.started(uow, recording_id)
    return Response(status_code=201)


@router.put(
    "/rooms/{access_key}/recording",
    summary="Pause (`paused=true`) or resume (`paused=false`) the recording (vidroom)",
    description="The same file goes on, with no gap in its timestamps. 404 when not recording.",
)
async def pause(access_key: str, request: Request, state: StateDep) -> JSONResponse:
    p = await params(request)
    paused = get_bool(p, "paused")
    if paused is None:
        raise errors.invalid("missing_parameter", "paused (true or false) is required")
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await recordings.current(uow.session, meeting)
    media = media_of(request)
    try:
        await media.pause_recording(meeting.id, row.id, paused)
    except MediaError as exc:
        if exc.code == 404:
            raise errors.not_found("not_recording", "the meeting is not being recorded") from None
        raise refused(exc, "pause") from None
    async with state.db.uow() as uow:
        fresh = await uow.session.get(Recording, row.id)
        if fresh is None or fresh.stopped_at is not None:
            raise errors.not_found("not_recording", "the meeting is not being recorded")
        await recordings.set_paused(uow, fresh, paused)
        body = await recording_body(uow.session, state.settings, fresh)
    return JSONResponse(body)


async def stop_media(
    media: MediaControl, store: MediaStore, meeting_id: str, row: Recording
) -> tuple[RecordingResult, str | None]:
    """Stop the media recording; when the room no longer has it (its worker died), repair the
    file instead. Returns what the file holds, and an error reason when it holds nothing."""
    try:
        return await media.stop_recording(meeting_id, row.id), None
    except MediaError as exc:
        if exc.code != 404:
            raise
    return await repair(media, store, row)


async def repair(
    media: MediaControl, store: MediaStore, row: Recording
) -> tuple[RecordingResult, str | None]:
    try:
        path = str(store.path_for(row.storage_key))
        return await media.finalize_recording(row.id, path), None
    except MediaError as exc:
        return RecordingResult(row.id, 0.0, 0), f"the recording was lost ({exc.reason[:80]})"


@router.delete(
    "/rooms/{access_key}/recording",
    summary="Stop the recording",
    description="200; 404 when the meeting is not being recorded; 410.",
)
async def stop(access_key: str, request: Request, state: StateDep) -> Response:
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await recordings.current(uow.session, meeting)
    media = media_of(request)
    store = store_for(state.settings.media_dir)
    try:
        result, error = await stop_media(media, store, meeting.id, row)
    except MediaError as exc:
        raise refused(exc, "stop") from None
    async with state.db.uow() as uow:
        await recordings.finish(uow, row.id, result, error=error)
    return Response(status_code=200)


@router.get(
    "/recordings/{recording_id}",
    response_model=dict[str, Any],
    summary="A recording of the API key's team (§2.4)",
)
async def get_recording(recording_id: str, request: Request, state: StateDep) -> JSONResponse:
    async with state.db.reader() as uow:
        team, _ = await team_of(request, uow.session)
        row = await recordings.of_team(uow.session, team.id, recording_id)
        body = await recording_body(uow.session, state.settings, row)
    return JSONResponse(body)


@router.delete(
    "/recordings/{recording_id}",
    summary="Delete a recording and its file (a running one is stopped first)",
)
async def delete_recording(recording_id: str, request: Request, state: StateDep) -> Response:
    store = store_for(state.settings.media_dir)
    async with state.db.reader() as uow:
        team, _ = await team_of(request, uow.session)
        row = await recordings.of_team(uow.session, team.id, recording_id)
    if row.stopped_at is None:
        media = media_of(request)
        result, error = await stop_media(media, store, row.meeting_id, row)
        async with state.db.uow() as uow:
            await recordings.finish(uow, row.id, result, error=error)
    async with state.db.uow() as uow:
        fresh = await recordings.of_team(uow.session, team.id, recording_id)
        key = await recordings.remove(uow, fresh)
    await store.delete(key)
    return Response(status_code=200)


def _when(p: dict[str, Any], name: str) -> datetime | None:
    text = get_str(p, name)
    if text is None or text == "":
        return None
    if len(text) > 40:
        raise errors.invalid("invalid_parameter", f"{name} must be an ISO 8601 time")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise errors.invalid("invalid_parameter", f"{name} must be an ISO 8601 time") from None
    if value.tzinfo is None:
        raise errors.invalid("invalid_parameter", f"{name} needs a time zone (e.g. Z)")
    return value


def _page(p: dict[str, Any]) -> int:
    return get_page(p, MAX_PAGE)


async def meetings_of(
    session: AsyncSession, team: Team, key: str, started_at: datetime | None
) -> list[str]:
    """The team's meetings of a room id — or of an access key's meeting, as the PyPI client
    sends it; 404 when there are none."""
    found = [] if len(key) > 200 else await repository.meetings_of_room(
        session, team.id, key, started_at
    )  # fmt: skip
    if not found:
        try:
            meeting, _ = await live.access(session, key)
        except errors.VidroomError as exc:
            if exc.kind is not errors.ErrorKind.gone:
                raise errors.not_found("room_not_found", "no such room") from None
            raise errors.not_found("room_not_found", "no such room") from None
        if meeting.team_id != team.id:
            raise errors.not_found("room_not_found", "no such room")
        found = [meeting.id]
    return found


@router.get(
    "/rooms/{room_id}/recordings",
    summary="Recordings of a room id (API key; the access key works too)",
    description=(
        "Newest first, 25 a page: `page` (0 first), `started_at` (ISO: the meeting that began "
        "then), `since`, `until` (ISO)."
    ),
)
async def list_recordings(room_id: str, request: Request, state: StateDep) -> JSONResponse:
    p = await params(request)
    page, since, until = _page(p), _when(p, "since"), _when(p, "until")
    started_at = _when(p, "started_at")
    async with state.db.reader() as uow:
        team, _ = await team_of(request, uow.session)
        ids = await meetings_of(uow.session, team, room_id, started_at)
        rows = await recordings.listing(
            uow.session, team.id, meeting_ids=ids, since=since, until=until, page=page
        )
        body = [await recording_body(uow.session, state.settings, row) for row in rows]
    return JSONResponse(body)
