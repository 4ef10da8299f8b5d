"""``POST /rooms/<ak>/layout``: the composite's layout (spec §3.2)."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request, Response

from vidroom.api.deps import StateDep
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.request import params
from vidroom.media.contract import MediaError
from vidroom.meetings import layout, live

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])
log = logging.getLogger(__name__)


@router.post(
    "/rooms/{access_key}/layout",
    status_code=200,
    responses={200: {"description": "no body"}},
    summary="Lay out the composite: `layout` auto|custom, `name`, `map`, `users[]`, ...",
    description=(
        "`name`: one, two, four, six, nine, present-lower-3, present-upper-6, "
        "present-two-upper-6, present-upper-right-9, present-vertical-9 (any name with a `map`); "
        "`map`: JSON list of up to 10 boxes `[x, y, w, h, fit]` in canvas pixels, fit "
        'auto|contain|cover; `users[]`: user ids in spot order (`""` or an unknown id keeps a '
        "spot free; with `layout=auto` free spots are filled); `voice_activation`, `show_names`, "
        "`audio_insert`, `audio_insert_position[x|y]`. 405 when `layout_available` is off."
    ),
)
async def set_layout(access_key: str, request: Request, state: StateDep) -> Response:
    p = await params(request)
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        changes = layout.parse(p, meeting)
        await layout.change(uow, meeting, changes)
        spec = await layout.room_spec(uow.session, meeting)
    media = getattr(getattr(request.app.state, "sepp", None), "media", None)
    if media is not None:
        try:
            await media.open_room(spec)  # idempotent: a running room takes the new layout
        except MediaError as exc:  # stored: applied when the media room opens again
            log.warning("layout of %s not applied now: %s", spec.meeting_id, exc.reason[:120])
    return Response(status_code=200)
