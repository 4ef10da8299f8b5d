"""Live broadcasts (spec §3.1 "Broadcasts"): push the meeting's composite to one RTMP(S)
ingest. Auth: the access key in the path (404 unknown, 410 meeting over).

``POST /rooms/<ak>/broadcasts`` checks the ``stream_url`` (:mod:`vidroom.kit.stream_url`:
rtmp/rtmps, a host and port, an app path and a stream key, its addresses resolved once and
refused when private unless ``VIDROOM_OUTBOUND_ALLOW_PRIVATE``), reserves the meeting's one
broadcast, then asks the media server to push to the checked addresses. The stream key stays in
the media target only: the database, the responses, the events and the logs see the URL
redacted. Connection progress (live, reconnecting, failed) comes from the media server as
``broadcast_state`` and reaches ``/rt`` as ``broadcasts_update``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson import shapes
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.media_access import media_of
from vidroom.api.eyeson.request import params
from vidroom.broadcasts import repository
from vidroom.broadcasts import service as broadcasts
from vidroom.kit import stream_url
from vidroom.kit.params import get_str
from vidroom.media.contract import BroadcastTarget, MediaError
from vidroom.meetings import live
from vidroom.meetings.models import Meeting
from vidroom.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])

BROADCAST_DOC = (
    "The broadcast object is spec §2.6 (`id`, `platform`, `player_url`, `user`, `room`) plus "
    '`state` ("starting", "live", "reconnecting") and `reconnects`.'
)


async def running(session: AsyncSession, meeting: Meeting) -> list[dict[str, Any]]:
    """The meeting's running broadcasts, shaped (the room response's ``broadcasts``)."""
    return [
        shapes.broadcast_object(row, user, meeting)
        for row, user in await repository.running_with_users(session, meeting.id)
    ]


def _bad_url(exc: stream_url.StreamURLError) -> errors.VidroomError:
    return errors.invalid("invalid_stream_url", str(exc))


def target(settings: Settings, broadcast_id: str, checked: stream_url.StreamURL) -> BroadcastTarget:
    return BroadcastTarget(
        broadcast_id=broadcast_id,
        url=checked.url,
        addresses=list(checked.addresses),
        connect_timeout=settings.broadcast_connect_seconds,
        give_up_after=settings.broadcast_give_up_seconds,
        ca_file=str(settings.broadcast_ca_file) if settings.broadcast_ca_file else None,
    )


@router.post(
    "/rooms/{access_key}/broadcasts",
    status_code=201,
    summary="Start a live broadcast (`stream_url` rtmp(s)://host/app/key, `player_url`)",
    description=BROADCAST_DOC
    + " 400 bad URL or a private address, 405 broadcasts off, 406 one runs already or nobody"
    " is in the call yet.",
)
async def start(access_key: str, request: Request, state: StateDep) -> JSONResponse:
    settings = state.settings
    p = await params(request)
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        await broadcasts.check_can_start(uow.session, meeting)
    try:
        stream_url.parse(get_str(p, "stream_url"))
    except stream_url.StreamURLError as exc:
        raise _bad_url(exc) from None
    player_url = broadcasts.check_player_url(get_str(p, "player_url"))
    platform = broadcasts.check_platform(get_str(p, "platform"))
    try:
        checked = await stream_url.check(
            get_str(p, "stream_url"), allow_private=settings.outbound_allow_private
        )
    except stream_url.StreamURLError as exc:
        raise _bad_url(exc) from None
    media = media_of(request)
    if not media.members(meeting.id):
        raise errors.not_acceptable("nobody_in_call", "nobody is in the call yet")
    async with state.db.uow() as uow:
        meeting, participant = await live.access(uow.session, access_key)
        row = await broadcasts.begin(
            uow, meeting, participant, stream=checked, player_url=player_url, platform=platform
        )
        body = shapes.broadcast_object(row, participant, meeting)
    log.info("broadcast %s of %s to %s", row.id, meeting.id, checked.redacted)
    try:
        await media.start_broadcast(meeting.id, target(settings, row.id, checked))
    except MediaError as exc:
        async with state.db.uow() as uow:
            await broadcasts.start_failed(uow, row.id, exc.reason)
        if exc.code in (404, 409):
            raise errors.not_acceptable(
                "broadcast_refused",
                "nobody is in the call yet" if exc.code == 404 else "a broadcast is running",
            ) from None
        raise errors.VidroomError(
            errors.ErrorKind.unavailable, "media_unavailable", "the media server refused"
        ) from None
    return JSONResponse(body, status_code=201)


async def _update(
    access_key: str, platform: str | None, request: Request, state: StateDep
) -> JSONResponse:
    p = await params(request)
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await broadcasts.update(
            uow, meeting, platform=platform, player_url=get_str(p, "player_url")
        )
        user = await live.participant_by_id(uow.session, row.participant_id or "")
        body = shapes.broadcast_object(row, user, meeting)
    return JSONResponse(body)


@router.put(
    "/rooms/{access_key}/broadcasts",
    response_model=dict[str, Any],
    summary="Change the running broadcast's `player_url`",
    description=BROADCAST_DOC + " 404 when none runs.",
)
async def update(access_key: str, request: Request, state: StateDep) -> JSONResponse:
    return await _update(access_key, None, request, state)


@router.put(
    "/rooms/{access_key}/broadcasts/{platform}",
    response_model=dict[str, Any],
    summary="Change the `player_url` of the broadcast on `platform` (legacy, e.g. generic)",
    description=BROADCAST_DOC + " 404 when none runs on that platform.",
)
async def update_platform(
    access_key: str, platform: str, request: Request, state: StateDep
) -> JSONResponse:
    return await _update(access_key, platform, request, state)


async def _stop(access_key: str, platform: str | None, request: Request, state: StateDep) -> None:
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await broadcasts.stop(uow, meeting, platform=platform)
    hub = getattr(request.app.state, "sepp", None)
    media = getattr(hub, "media", None)
    if media is not None:
        try:
            await media.stop_broadcast(meeting.id, row.id)
        except MediaError as exc:
            log.warning("broadcast %s: stopping failed (%s)", row.id, exc.reason[:80])


@router.delete(
    "/rooms/{access_key}/broadcasts",
    summary="Stop the running broadcast",
    description="200; 404 when none runs.",
)
async def stop(access_key: str, request: Request, state: StateDep) -> Response:
    await _stop(access_key, None, request, state)
    return Response(status_code=200)


@router.delete(
    "/rooms/{access_key}/broadcasts/{platform}",
    summary="Stop the broadcast on `platform` (legacy, e.g. generic)",
    description="200; 400 malformed platform; 404 when none runs on that platform.",
)
async def stop_platform(
    access_key: str, platform: str, request: Request, state: StateDep
) -> Response:
    await _stop(access_key, platform, request, state)
    return Response(status_code=200)
