"""``POST/PUT/DELETE /rooms/<ak>/presentation`` (spec §3.1 Presentation): the caller's screen
share, or a slide (``slide``: an image URL, see ``slide_source.py``), takes the big spot;
``presentation_update`` tells everyone (with ``slide`` set for a slide, spec §2.8).

POST: 201; 409 when someone else presents. PUT ``slide``: the presenter shows another slide
(200); 404 when nobody presents, 409 when someone else does. DELETE ends it (200). A bad slide
(not an image, unreachable, a private address, another meeting's file) is a 400.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson.egress_state import presenter_of
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.media_access import media_of, refused
from vidroom.api.eyeson.request import params
from vidroom.api.eyeson.slide_source import load, local_bytes
from vidroom.events import catalogue as ev
from vidroom.kit.params import get_str
from vidroom.media.contract import MediaError
from vidroom.meetings import live
from vidroom.state import AppState

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])


async def _present(
    request: Request, state: AppState, access_key: str, slide: str | None, *, moving: bool
) -> None:
    """Check who presents, show the slide (or the screen share) and announce it (again too:
    a slide may have gone). An external slide is fetched with no transaction open."""
    async with state.db.reader() as uow:
        meeting, participant = await live.access(uow.session, access_key)
        media = media_of(request)
        current = presenter_of(media, meeting.id)
        if moving and current is None:
            raise errors.not_found("no_presentation", "nobody is presenting: POST first")
        if current is not None and current != participant.id:
            raise errors.conflict("presentation_running", "someone else is presenting")
        local = await local_bytes(uow.session, state.settings, meeting, slide) if slide else None
    image = await load(state.settings, meeting, slide, local) if slide else None
    async with state.db.reader() as uow:
        try:
            await media.show_slide(meeting.id, participant.id, image)
            if image is None:
                await media.set_presenter(meeting.id, participant.id)
        except MediaError as exc:
            if exc.code == 400:
                raise errors.invalid("invalid_slide", exc.reason[:200]) from None
            raise refused(exc, "presentation") from None
        await uow.emit(
            ev.PresentationChanged(
                team_id=meeting.team_id,
                meeting_id=meeting.id,
                participant_id=participant.id,
                slide=slide or None,
            )
        )


@router.post(
    "/rooms/{access_key}/presentation",
    status_code=201,
    responses={201: {"description": "no body"}},
    summary="Present: the caller's screen share, or a slide (`slide`), takes the big spot",
    description=(
        "`slide`: a PNG/JPEG URL, e.g. one of a file's `links.slides`. 409 when someone else "
        "presents; 400 for a bad slide; 406 while the caller is not in the call."
    ),
)
async def start(access_key: str, request: Request, state: StateDep) -> Response:
    p = await params(request)
    await _present(request, state, access_key, get_str(p, "slide"), moving=False)
    return Response(status_code=201)


@router.put(
    "/rooms/{access_key}/presentation",
    status_code=200,
    responses={200: {"description": "no body"}},
    summary="The presenter shows another slide (`slide`)",
    description="404 when nobody presents, 409 when someone else does; 400 for a bad slide.",
)
async def change(access_key: str, request: Request, state: StateDep) -> Response:
    p = await params(request)
    slide = get_str(p, "slide")
    if not slide:
        async with state.db.reader() as uow:
            await live.access(uow.session, access_key)  # 404/410 first
        raise errors.invalid("missing_parameter", "slide is required")
    await _present(request, state, access_key, slide, moving=True)
    return Response(status_code=200)


@router.delete(
    "/rooms/{access_key}/presentation",
    status_code=200,
    responses={200: {"description": "no body"}},
    summary="End the presentation (screen share or slides): back to the layout",
)
async def stop(access_key: str, request: Request, state: StateDep) -> Response:
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        media = media_of(request)
        if presenter_of(media, meeting.id) is not None:
            try:
                # drops the slide as well; the media server's report of the change announces
                # it (sepp/events.py), as when the share ends in the browser
                await media.set_presenter(meeting.id, None)
            except MediaError as exc:
                raise refused(exc, "presentation") from None
    return Response(status_code=200)
