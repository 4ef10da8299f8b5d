"""The picture behind a presentation's ``slide`` URL.

One of our own slide links (``<base_url>/rooms/<ak>/files/<id>/slides/<n>``) is resolved
locally, without HTTP, and only to a file of the caller's meeting; any other URL is fetched
under the outbound rules (``layers.intake.fetch``: no private addresses unless allowed, a size
cap). Either way the bytes must decode as an image (``intake.decode``) no larger than the
composite. Every refusal is a 400 with the reason.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlsplit

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from vidroom import errors
from vidroom.files import service as files
from vidroom.files.storage import storage_for
from vidroom.kit.outbound import OutboundPolicy
from vidroom.layers import intake
from vidroom.media.contract import LayerImage
from vidroom.meetings.models import Meeting
from vidroom.settings import Settings

MAX_SLIDE_BYTES = 20_000_000
MAX_SOURCE = (4096, 4096)  # larger pictures are refused; smaller ones fitted into the composite
_OWN = re.compile(r"/rooms/[^/]+/files/([^/]+)/slides/([0-9]{1,6})")


def _bad(message: str) -> errors.VidroomError:
    return errors.invalid("invalid_slide", message)


def own_slide(settings: Settings, url: str) -> tuple[str, int] | None:
    """(file id, index) when ``url`` is one of this server's slide links."""
    base = urlsplit(settings.base_url)
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    path = parts.path.removeprefix(base.path.rstrip("/"))
    match = _OWN.fullmatch(path)
    return (match.group(1), int(match.group(2))) if match else None


async def _own_bytes(
    session: AsyncSession, settings: Settings, meeting: Meeting, url: str
) -> bytes:
    found = own_slide(settings, url)
    if found is None:
        raise _bad("the slide URL points at this server but not at a file's slide")
    file_id, index = found
    try:
        row = await files.get(session, meeting, file_id)
        key = files.slide_key(row, index, thumbnail=False)
    except errors.VidroomError:
        raise _bad("the slide is not a converted slide of a file of this meeting") from None
    path = storage_for(settings.files_dir).path(key)
    try:
        return await asyncio.to_thread(path.read_bytes)
    except OSError:
        raise _bad("the slide's content is missing") from None


def _ours(settings: Settings, url: str) -> bool:
    base, parts = urlsplit(settings.base_url), urlsplit(url)
    return (parts.scheme, parts.netloc) == (base.scheme, base.netloc)


async def local_bytes(
    session: AsyncSession, settings: Settings, meeting: Meeting, url: str
) -> bytes | None:
    """The bytes of one of our own slide links (a file of ``meeting``); None for another
    server's URL (fetch it with :func:`load` outside any transaction); 400 for a bad one."""
    if len(url) > 2000 or urlsplit(url).scheme not in ("http", "https"):
        raise _bad("slide must be an http(s) URL of a PNG or JPEG image")
    if not _ours(settings, url):
        return None
    return await _own_bytes(session, settings, meeting, url)


async def load(settings: Settings, meeting: Meeting, url: str, local: bytes | None) -> LayerImage:
    """The slide as RGBA pixels fitted into the meeting's composite: ``local`` bytes, or the
    body at ``url`` fetched under the outbound rules."""
    size = (1280, 720) if meeting.options.get("widescreen") else (1280, 960)
    data = local
    if data is None:
        policy = OutboundPolicy(allow_private=settings.outbound_allow_private)
        data = await intake.fetch(url, policy, max_bytes=MAX_SLIDE_BYTES)
    return await asyncio.to_thread(_fitted, data, size)


def _fitted(data: bytes, size: tuple[int, int]) -> LayerImage:
    """Decoded (at most :data:`MAX_SOURCE`), then scaled down to fit ``size`` if larger."""
    picture = intake.decode(data, MAX_SOURCE)
    if picture.width <= size[0] and picture.height <= size[1]:
        return LayerImage(0, picture.width, picture.height, picture.rgba)
    image = picture.image()
    image.thumbnail(size, Image.Resampling.LANCZOS)
    return LayerImage(0, image.width, image.height, image.tobytes())
