"""``POST/PUT/DELETE /rooms/<ak>/presentation`` (spec §3.1 Presentation): the caller's screen
share takes the big spot; ``presentation_update`` tells everyone. Slides (``slide``) are not
built yet and are refused with a clear 400."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.media_access import media_of, refused
from vidroom.api.eyeson.request import params
from vidroom.events import catalogue as ev
from vidroom.kit.params import get_str
from vidroom.media.contract import MediaError
from vidroom.meetings import live

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])


def _no_slides() -> errors.VidroomError:
    return errors.invalid(
        "slides_unsupported",
        "slides are not available on this server yet: present by sharing your screen "
        "(POST /rooms/<access_key>/presentation without slide)",
    )


@router.post(
    "/rooms/{access_key}/presentation",
    status_code=201,
    responses={201: {"description": "no body"}},
    summary="Present: the caller's screen share takes the big spot",
    description="409 when someone else presents; 406 while the caller is not in the call.",
)
async def start(access_key: str, request: Request, state: StateDep) -> Response:
    p = await params(request)
    if get_str(p, "slide"):
        raise _no_slides()
    async with state.db.reader() as uow:
        meeting, participant = await live.access(uow.session, access_key)
        media = media_of(request)
        current = next((m for m in media.members(meeting.id) if m.presenting), None)
        if current is not None and current.participant_id != participant.id:
            raise errors.conflict("presentation_running", "someone else is presenting")
        try:
            await media.set_presenter(meeting.id, participant.id)
        except MediaError as exc:
            raise refused(exc, "presentation") from None
        if current is None:
            await uow.emit(
                ev.PresentationChanged(
                    team_id=meeting.team_id, meeting_id=meeting.id, participant_id=participant.id
                )
            )
    return Response(status_code=201)


@router.put(
    "/rooms/{access_key}/presentation",
    status_code=200,
    summary="Show another slide (`slide`): not available yet (400)",
)
async def change(access_key: str, request: Request, state: StateDep) -> Response:
    p = await params(request)
    async with state.db.reader() as uow:
        await live.access(uow.session, access_key)
    if not get_str(p, "slide"):
        raise errors.invalid("missing_parameter", "slide is required")
    raise _no_slides()


@router.delete(
    "/rooms/{access_key}/presentation",
    status_code=200,
    responses={200: {"description": "no body"}},
    summary="End the presentation: back to the layout",
)
async def stop(access_key: str, request: Request, state: StateDep) -> Response:
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        media = media_of(request)
        current = next((m for m in media.members(meeting.id) if m.presenting), None)
        if current is not None:
            try:
                await media.set_presenter(meeting.id, None)
            except MediaError as exc:
                raise refused(exc, "presentation") from None
            await uow.emit(
                ev.PresentationChanged(
                    team_id=meeting.team_id, meeting_id=meeting.id, participant_id=None
                )
            )
    return Response(status_code=200)
