"""``POST /rooms/<ak>/layers`` and ``DELETE /rooms/<ak>/layers/<1|-1>`` (spec §3.1 Layers): an
image (uploaded ``file`` or fetched ``url``) or a text card (``insert[title]``,
``insert[content]``, ``insert[icon]``) over (``z-index`` 1) or under (-1) the tiles."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from starlette.datastructures import UploadFile

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.media_access import media_of, refused
from vidroom.api.eyeson.request import params
from vidroom.kit.outbound import OutboundPolicy
from vidroom.kit.params import ParamError, get_dict, get_str
from vidroom.layers import intake
from vidroom.layers.text_card import render_text_card
from vidroom.media.contract import LayerImage, MediaError
from vidroom.meetings import live
from vidroom.settings import Settings

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])

MAX_LAYER_BYTES = 10 * 1024 * 1024
MAX_TEXT = 1000
ICON_SIZE = (512, 512)


def _policy(settings: Settings) -> OutboundPolicy:
    return OutboundPolicy(allow_private=settings.outbound_allow_private)


def _z(value: str | None) -> int:
    if value in (None, "", "1", "+1"):
        return 1
    if value == "-1":
        return -1
    raise errors.invalid("invalid_parameter", "z-index must be 1 (foreground) or -1 (background)")


def _text(value: str | None, name: str) -> str:
    text = value or ""
    if len(text) > MAX_TEXT:
        raise errors.invalid(
            "invalid_parameter", f"insert[{name}] has at most {MAX_TEXT} characters"
        )
    return text


@router.post(
    "/rooms/{access_key}/layers",
    status_code=201,
    responses={201: {"description": "no body"}},
    summary="Show an image or a text card over (`z-index=1`) or under (`-1`) the tiles",
    description=(
        "`file` (multipart PNG, JPEG, WebP or SVG without outside references) or `url`, at most "
        "the composite's size (1280x960, widescreen 1280x720); or `insert[title]`, "
        "`insert[content]` and `insert[icon]` (an image URL) for a lower-third text card. "
        "406 while nobody is in the call."
    ),
)
async def add_layer(access_key: str, request: Request, state: StateDep) -> Response:
    try:
        p = await params(request, file_limit=MAX_LAYER_BYTES)
        sent = p.get("file")
        uploaded = await sent.read(MAX_LAYER_BYTES + 1) if isinstance(sent, UploadFile) else None
    finally:
        await request.close()  # the spooled copy of an upload
    try:
        z = _z(get_str(p, "z-index"))
        url = get_str(p, "url")
        insert = get_dict(p, "insert") or {}
        title, content = (
            _text(get_str(insert, "title"), "title"),
            _text(get_str(insert, "content"), "content"),
        )
        icon_url = get_str(insert, "icon")
    except ParamError as exc:
        raise errors.invalid("invalid_parameter", str(exc)) from None
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
    size = (1280, 720) if meeting.options.get("widescreen") else (1280, 960)
    policy = _policy(state.settings)
    if uploaded is not None:
        data = uploaded
        if len(data) > MAX_LAYER_BYTES:
            raise errors.invalid(
                "invalid_parameter", f"file is larger than {MAX_LAYER_BYTES} bytes"
            )
        picture = await asyncio.to_thread(intake.decode, data, size)
    elif url:
        data = await intake.fetch(url, policy)
        picture = await asyncio.to_thread(intake.decode, data, size)
    elif title or content:
        icon = None
        if icon_url:
            icon = await asyncio.to_thread(
                intake.decode, await intake.fetch(icon_url, policy), ICON_SIZE
            )
        picture = await asyncio.to_thread(render_text_card, title, content, icon, size)
    else:
        raise errors.invalid(
            "missing_parameter", "file, url or insert[title]/insert[content] is required"
        )
    media = media_of(request)
    try:
        await media.set_layer(
            meeting.id, z, LayerImage(z, picture.width, picture.height, picture.rgba)
        )
    except MediaError as exc:
        raise refused(exc, "layer") from None
    return Response(status_code=201)


@router.delete(
    "/rooms/{access_key}/layers/{index}",
    status_code=200,
    responses={200: {"description": "no body"}},
    summary="Remove the foreground (`1`) or background (`-1`) layer",
)
async def delete_layer(access_key: str, index: str, request: Request, state: StateDep) -> Response:
    z = _z(index)
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
    try:
        await media_of(request).set_layer(meeting.id, z, None)
    except MediaError as exc:
        raise refused(exc, "layer") from None
    return Response(status_code=200)
