"""Signed download links of recordings and snapshots (``links.download``): no other credential,
valid one hour (:mod:`vidroom.kit.signed_url`). Range requests are answered (a browser can
seek in a recording); an expired or altered link is 403 and reveals nothing."""

from __future__ import annotations

import os

import anyio.to_thread
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.files import _FileResponse, content_disposition
from vidroom.kit import signed_url
from vidroom.meetings.models import Meeting
from vidroom.recordings.models import Recording
from vidroom.recordings.service import downloadable, valid_id
from vidroom.snapshots.models import Snapshot
from vidroom.storage.media_store import store_for

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])

TYPES = {"recordings": ("video/mp4", "mp4"), "snapshots": ("image/png", "png")}


def _denied() -> errors.VidroomError:
    return errors.forbidden("link_invalid", "the download link is invalid or has expired")


@router.get(
    "/downloads/{kind}/{item_id}",
    response_class=FileResponse,
    summary="A recording's MP4 or a snapshot's PNG, by its signed link (supports HTTP Range)",
)
@router.head("/downloads/{kind}/{item_id}", include_in_schema=False)
async def download(kind: str, item_id: str, request: Request, state: StateDep) -> Response:
    if kind not in TYPES or not valid_id(item_id):
        raise errors.not_found("not_found", "no such download")
    q = request.query_params
    secret = state.settings.ensure_secret_key()
    if not signed_url.valid(secret, kind, item_id, q.get("expires"), q.get("signature")):
        raise _denied()
    row: Recording | Snapshot | None
    async with state.db.reader() as uow:
        row = await uow.session.get(Recording if kind == "recordings" else Snapshot, item_id)
        if isinstance(row, Recording) and not downloadable(row):
            row = None
        meeting = await uow.session.get(Meeting, row.meeting_id) if row is not None else None
    if row is None or meeting is None:
        raise errors.not_found("not_found", "no such download")
    store = store_for(state.settings.media_dir)
    path = store.path_for(row.storage_key)
    try:
        stat = await anyio.to_thread.run_sync(os.stat, path)
    except FileNotFoundError:
        raise errors.not_found("file_content_missing", "the file is missing") from None
    media_type, extension = TYPES[kind]
    name = f"{meeting.room_name or 'meeting'}-{row.created_at:%Y%m%d-%H%M%S}.{extension}"
    headers = {
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": content_disposition(name),
    }
    return _FileResponse(path, media_type=media_type, headers=headers, stat_result=stat)
