"""Layer image intake: real images made with Pillow, inline SVG, a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import base64
import io
import struct
import zlib
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.conftest import free_port
from tests.webhooks.receiver import Receiver
from vidroom.errors import ErrorKind, VidroomError
from vidroom.kit.outbound import OutboundPolicy
from vidroom.layers.intake import Picture, decode, fetch, sniff

LIMIT = (1280, 960)
RED = (255, 0, 0, 255)


def encoded(fmt: str, size: tuple[int, int] = (40, 30), colour: tuple[int, ...] = RED) -> bytes:
    mode = "RGB" if fmt == "JPEG" else "RGBA"
    image = Image.new(mode, size, colour[: len(mode)])
    out = io.BytesIO()
    image.save(out, fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return out.getvalue()


def pixel(picture: Picture, x: int, y: int) -> tuple[int, int, int, int]:
    offset = (y * picture.width + x) * 4
    r, g, b, a = picture.rgba[offset : offset + 4]
    return r, g, b, a


def assert_invalid(exc: pytest.ExceptionInfo[VidroomError], fragment: str) -> None:
    assert exc.value.kind is ErrorKind.invalid
    assert exc.value.code == "invalid_parameter"
    assert fragment in exc.value.message


@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("JPEG", "jpeg"), ("WEBP", "webp")])
def test_raster_kinds_decode_to_size_and_colour(fmt: str, kind: str) -> None:
    data = encoded(fmt)
    assert sniff(data) == kind
    picture = decode(data, LIMIT)
    assert (picture.width, picture.height) == (40, 30)
    assert len(picture.rgba) == 40 * 30 * 4
    r, g, b, a = pixel(picture, 20, 15)
    assert a == 255
    assert r > 240
    assert max(g, b) < 15


def test_png_transparency_is_kept() -> None:
    picture = decode(encoded("PNG", colour=(0, 0, 255, 0)), LIMIT)
    assert pixel(picture, 0, 0)[3] == 0


SVG = """<?xml version="1.0" encoding="UTF-8"?>
<!-- a green square on the left, transparent on the right -->
<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#00ff00"/></linearGradient></defs>
  <rect x="0" y="0" width="100" height="100" fill="url(#g)"/>
</svg>
"""


def test_svg_renders_at_intrinsic_size() -> None:
    data = b"\xef\xbb\xbf" + SVG.encode()
    assert sniff(data) == "svg"
    picture = decode(data, LIMIT)
    assert (picture.width, picture.height) == (200, 100)
    assert pixel(picture, 50, 50) == (0, 255, 0, 255)
    assert pixel(picture, 150, 50)[3] == 0


def test_svg_size_from_viewbox_and_fallback() -> None:
    boxed = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 150"><rect/></svg>'
    assert (decode(boxed, LIMIT).width, decode(boxed, LIMIT).height) == (300, 150)
    half = b'<svg xmlns="http://www.w3.org/2000/svg" width="600" viewBox="0 0 300 150"/>'
    assert (decode(half, LIMIT).width, decode(half, LIMIT).height) == (600, 300)
    bare = b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="5" height="5"/></svg>'
    assert (decode(bare, (64, 48)).width, decode(bare, (64, 48)).height) == (64, 48)


def test_svg_with_embedded_png_is_allowed() -> None:
    png = base64.b64encode(encoded("PNG", (10, 10))).decode()
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="10" height="10"><image width="10" height="10" '
        f'xlink:href="data:image/png;base64,{png}"/></svg>'
    )
    picture = decode(svg.encode(), LIMIT)
    assert pixel(picture, 5, 5)[0] > 240


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_oversize_raster_refused(fmt: str) -> None:
    with pytest.raises(VidroomError) as exc:
        decode(encoded(fmt, (2000, 900)), LIMIT)
    assert_invalid(exc, "the image is 2000x900; at most 1280x960")


def test_oversize_svg_refused() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="900"/>'
    with pytest.raises(VidroomError) as exc:
        decode(svg, LIMIT)
    assert_invalid(exc, "the image is 2000x900; at most 1280x960")


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims ``width``x``height`` with almost no pixel data (a bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("size", "fragment"),
    [((5000, 5000), "the image is 5000x5000"), ((60000, 60000), "too large to decode")],
)
def test_header_size_checked_before_decoding(size: tuple[int, int], fragment: str) -> None:
    """A huge PNG is refused from its header alone, before any pixel is decoded."""
    with pytest.raises(VidroomError) as exc:
        decode(png_header_only(*size), LIMIT)
    assert_invalid(exc, fragment)


@pytest.mark.parametrize(
    "data",
    [encoded("GIF"), b"hello, this is text", b"", b"<html><body>no</body></html>", b"\x00" * 64],
)
def test_other_types_refused(data: bytes) -> None:
    with pytest.raises(VidroomError) as exc:
        decode(data, LIMIT)
    assert_invalid(exc, "PNG, JPEG, WebP or SVG")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_raster_refused(fmt: str) -> None:
    data = encoded(fmt, (200, 200))
    with pytest.raises(VidroomError) as exc:
        decode(data[: len(data) // 2], LIMIT)
    assert_invalid(exc, "broken or truncated")


ENTITY_SVG = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&xxe;</text></svg>"""


def test_svg_with_doctype_entity_refused() -> None:
    assert sniff(ENTITY_SVG) == "svg"
    with pytest.raises(VidroomError) as exc:
        decode(ENTITY_SVG, LIMIT)
    assert_invalid(exc, "DOCTYPE or ENTITY")


NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


@pytest.mark.parametrize(
    "body",
    [
        '<image xlink:href="http://127.0.0.1:9/x.png" width="5" height="5"/>',
        '<image href="file:///etc/passwd" width="5" height="5"/>',
        '<image href="/etc/hostname" width="5" height="5"/>',
        '<rect width="5" height="5" fill="url(http://127.0.0.1:9/p)"/>',
        '<rect width="5" height="5" style="fill: url(\'https://example.com/x\')"/>',
        "<style>@import 'http://127.0.0.1:9/a.css';</style>",
        "<style>rect { fill: url(other.svg#p) }</style>",
        "<style>rect { fill: u\\72l(http://127.0.0.1:9/p) }</style>",
        "<style><![CDATA[ @font-face { src: url(http://127.0.0.1:9/f.ttf) } ]]></style>",
        '<image href="data:image/svg+xml;base64,PHN2Zy8+" width="5" height="5"/>',
    ],
)
def test_svg_outside_references_refused(body: str) -> None:
    svg = f'<svg {NS} width="10" height="10">{body}</svg>'
    with pytest.raises(VidroomError) as exc:
        decode(svg.encode(), LIMIT)
    assert_invalid(exc, "SVG")
    assert any(why in exc.value.message for why in ("outside", "not a PNG", "CSS escapes"))


@pytest.mark.parametrize("where", ["before", "after"])
def test_svg_stylesheet_instruction_refused(where: str) -> None:
    pi = '<?xml-stylesheet href="http://127.0.0.1:9/a.css"?>'
    svg = f'<svg {NS} width="10" height="10"/>'
    data = f"{pi}{svg}" if where == "before" else f"{svg}{pi}"
    with pytest.raises(VidroomError) as exc:
        decode(data.encode(), LIMIT)
    assert_invalid(exc, "style sheet")


def test_svg_text_mentioning_urls_is_fine() -> None:
    svg = f'<svg {NS} width="40" height="10"><text>see url(http://x) @import</text></svg>'
    assert decode(svg.encode(), LIMIT).width == 40


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>', "not well-formed"),
        (b"<svg \xff\xfe/>", "UTF-8"),
    ],
)
def test_broken_svg_refused(data: bytes, fragment: str) -> None:
    with pytest.raises(VidroomError) as exc:
        decode(data, LIMIT)
    assert_invalid(exc, fragment)


@pytest.fixture
def server() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


async def test_fetch_ok_and_decodes(server: Receiver) -> None:
    server.body = encoded("PNG", (32, 16))
    data = await fetch(server.url + "/layer.png", OutboundPolicy(allow_private=True))
    assert data == server.body
    assert decode(data, LIMIT).width == 32
    assert server.received()[0].method == "GET"


async def test_fetch_default_policy_refuses_loopback(server: Receiver) -> None:
    with pytest.raises(VidroomError) as exc:
        await fetch(server.url + "/layer.png", OutboundPolicy())
    assert_invalid(exc, "not allowed")
    assert server.received() == []


async def test_fetch_unreachable_port() -> None:
    policy = OutboundPolicy(allow_private=True, total_timeout=3)
    with pytest.raises(VidroomError) as exc:
        await fetch(f"http://127.0.0.1:{free_port()}/x.png", policy)
    assert_invalid(exc, "cannot fetch the image")


async def test_fetch_too_large(server: Receiver) -> None:
    server.body = b"\x89PNG" + b"x" * (10 * 1024 * 1024)
    with pytest.raises(VidroomError) as exc:
        await fetch(server.url + "/big.png", OutboundPolicy(allow_private=True))
    assert_invalid(exc, "larger than 10485760 bytes")


async def test_fetch_non_200(server: Receiver) -> None:
    server.status = 404
    with pytest.raises(VidroomError) as exc:
        await fetch(server.url + "/missing.png", OutboundPolicy(allow_private=True))
    assert_invalid(exc, "HTTP 404")


async def test_fetch_malformed_url() -> None:
    with pytest.raises(VidroomError) as exc:
        await fetch("ftp://127.0.0.1/x.png", OutboundPolicy(allow_private=True))
    assert exc.value.kind is ErrorKind.invalid
