"""Meeting files (legacy API, spec §3.1 "Files"): upload, list, read, rename, delete, download.

Auth: the access key in the path (404 unknown, 410 meeting over). A PDF is converted into
slides in the background (``files/conversion.py``; ``files_update`` events on /rt as it
progresses); a PNG or JPEG is one slide, itself; other files have none. Slides and thumbnails
are PNGs at ``…/slides/<n>`` and ``…/thumbnails/<n>``. Downloads are served
by Starlette's ``FileResponse``: single ranges (``bytes=a-b``, ``a-``, ``-n``) answer 206 with
``Content-Range``, several ranges a ``multipart/byteranges`` 206, an unsatisfiable range 416 with
``Content-Range: bytes */<size>``, and a malformed Range header is ignored (the whole file, 200).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.datastructures import UploadFile
from starlette.responses import MalformedRangeHeader
from starlette.types import Message, Receive

from vidroom import errors
from vidroom.api.deps import StateDep
from vidroom.api.eyeson.errors import EyesonRoute
from vidroom.api.eyeson.request import params
from vidroom.files import conversion
from vidroom.files import service as files
from vidroom.files.models import MeetingFile
from vidroom.files.storage import storage_for, too_large
from vidroom.kit.clock import iso_z
from vidroom.kit.params import get_str
from vidroom.meetings import live
from vidroom.settings import Settings

router = APIRouter(route_class=EyesonRoute, tags=["meeting API"])

# room for the multipart framing and the small fields (``name``) around the file
FORM_OVERHEAD = 65536


def file_object(settings: Settings, access_key: str, row: MeetingFile) -> dict[str, Any]:
    """The spec's file shape, plus ``size`` and ``created_at``."""
    url = f"{settings.base_url}/rooms/{access_key}/files/{row.id}"
    count = files.slide_count(row)
    body: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "type": row.content_type,
        "size": row.size,
        "created_at": iso_z(row.created_at),
        "converted": row.conversion in ("none", "image", "converted"),
        "conversion_progress": row.conversion_progress,
        "failed": row.conversion == "failed",
        "links": {
            "self": url,
            "slides": [f"{url}/slides/{i}" for i in range(count)],
            "thumbnails": [f"{url}/thumbnails/{i}" for i in range(count)],
            "download": f"{url}/download",
        },
    }
    if row.conversion == "failed":
        body["error"] = row.conversion_error or "the conversion failed"
    return body


def _policy(settings: Settings) -> files.Policy:
    return files.Policy.of(settings.max_file_bytes, settings.file_types)


class _MeteredReceive:
    """Counts the request body as it arrives and stops it past ``limit`` bytes, so that a body
    without Content-Length (chunked) cannot fill the disk with spooled upload data."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.seen = 0
        self.exceeded = False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.exceeded = True
                raise too_large(self.limit)
        return message


@router.get("/rooms/{access_key}/files", summary="Files shared in the meeting")
async def list_files(access_key: str, state: StateDep) -> dict[str, Any]:
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        rows = await files.list_files(uow.session, meeting)
        return {"files": [file_object(state.settings, access_key, row) for row in rows]}


@router.post(
    "/rooms/{access_key}/files",
    status_code=201,
    summary="Share a file in the meeting (multipart `file`, optional `name`)",
    description=(
        "The file's type comes from its part's Content-Type (else its extension), must be one of "
        "the accepted types (`VIDROOM_FILE_TYPES`) and must agree with the file's bytes (415). "
        "At most `VIDROOM_MAX_FILE_BYTES` bytes (413)."
    ),
)
async def upload(access_key: str, request: Request, state: StateDep) -> JSONResponse:
    settings = state.settings
    policy = _policy(settings)
    async with state.db.uow() as uow:  # refuse before reading the body
        meeting, _ = await live.access(uow.session, access_key)
        await files.check_room(uow.session, meeting)
    storage = storage_for(settings.files_dir)
    metered = _MeteredReceive(request.receive, policy.max_bytes + FORM_OVERHEAD)
    body_request = Request(request.scope, metered)
    try:
        try:
            p = await params(body_request, file_limit=policy.max_bytes)
        except errors.VidroomError:
            if metered.exceeded:
                raise too_large(policy.max_bytes) from None
            raise
        sent = p.get("file")
        if not isinstance(sent, UploadFile):
            raise errors.invalid(
                "missing_parameter", "file is required (a multipart/form-data file part)"
            )
        inspected = await files.inspect(sent, name=get_str(p, "name"), policy=policy)
        blob = await files.store(storage, sent, policy)
    finally:
        with anyio.CancelScope(shield=True):
            await body_request.close()  # removes the spooled copy of the upload
    try:
        async with state.db.uow() as uow:
            meeting, participant = await live.access(uow.session, access_key)
            row = await files.record(uow.session, meeting, participant, inspected, blob)
            body = file_object(settings, access_key, row)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await storage.delete(blob.key)
        raise
    if row.conversion == "converting":
        conversion.start(state.db, storage, row.id, settings.slides_max_pages)
    return JSONResponse(body, status_code=201)


@router.get("/rooms/{access_key}/files/{file_id}", summary="A file of the meeting")
async def get_file(access_key: str, file_id: str, state: StateDep) -> dict[str, Any]:
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await files.get(uow.session, meeting, file_id)
        return file_object(state.settings, access_key, row)


@router.put("/rooms/{access_key}/files/{file_id}", summary="Rename a file (`name`)")
async def rename_file(
    access_key: str, file_id: str, request: Request, state: StateDep
) -> dict[str, Any]:
    p = await params(request)
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await files.rename(uow.session, meeting, file_id, get_str(p, "name"))
        return file_object(state.settings, access_key, row)


@router.delete("/rooms/{access_key}/files/{file_id}", summary="Delete a file and its bytes")
async def delete_file(access_key: str, file_id: str, state: StateDep) -> Response:
    storage = storage_for(state.settings.files_dir)
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        await files.delete(uow, storage, meeting, file_id)
    return Response(status_code=200)


class _FileResponse(FileResponse):
    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            return []  # RFC 9110 §14.2: a Range header that cannot be parsed is ignored


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the exact name per RFC 5987/6266."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(name, safe='')}"


def _etag_matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags


@router.get(
    "/rooms/{access_key}/files/{file_id}/download",
    response_class=FileResponse,
    summary="The file's bytes (supports HTTP Range)",
)
@router.head("/rooms/{access_key}/files/{file_id}/download", include_in_schema=False)
async def download(access_key: str, file_id: str, request: Request, state: StateDep) -> Response:
    async with state.db.uow() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await files.get(uow.session, meeting, file_id)
    storage = storage_for(state.settings.files_dir)
    stat = await storage.stat(row.storage_key)
    if stat is None:
        raise errors.not_found("file_content_missing", "the file's content is missing")
    etag = f'"{row.id}-{row.size}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if _etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = content_disposition(row.name)
    return _FileResponse(
        storage.path(row.storage_key),
        media_type=row.content_type,
        headers=headers,
        stat_result=stat,
    )


async def _slide(
    access_key: str, file_id: str, index: str, state: StateDep, *, thumbnail: bool
) -> Response:
    async with state.db.reader() as uow:
        meeting, _ = await live.access(uow.session, access_key)
        row = await files.get(uow.session, meeting, file_id)
    if not index.isdigit() or len(index) > 6:
        raise errors.not_found("slide_not_found", "no such slide of this file")
    key = files.slide_key(row, int(index), thumbnail=thumbnail)
    storage = storage_for(state.settings.files_dir)
    stat = await storage.stat(key)
    if stat is None:
        raise errors.not_found("file_content_missing", "the slide's content is missing")
    media_type = row.content_type if row.conversion == "image" else "image/png"
    headers = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
    return FileResponse(storage.path(key), media_type=media_type, headers=headers, stat_result=stat)


@router.get(
    "/rooms/{access_key}/files/{file_id}/slides/{index}",
    response_class=FileResponse,
    summary="A slide of a converted file (PNG; an image file is its own slide 0)",
)
async def slide(access_key: str, file_id: str, index: str, state: StateDep) -> Response:
    return await _slide(access_key, file_id, index, state, thumbnail=False)


@router.get(
    "/rooms/{access_key}/files/{file_id}/thumbnails/{index}",
    response_class=FileResponse,
    summary="A slide's thumbnail (PNG)",
)
async def thumbnail(access_key: str, file_id: str, index: str, state: StateDep) -> Response:
    return await _slide(access_key, file_id, index, state, thumbnail=True)
