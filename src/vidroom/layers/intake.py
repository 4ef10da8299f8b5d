"""Layer images in: sniffed, checked and decoded to RGBA, or fetched from a user's URL.

* :func:`sniff` tells PNG, JPEG, WebP and SVG apart by their first bytes (never by a name or a
  content type a client chose).
* :func:`decode` turns them into a :class:`Picture`. Raster images go through Pillow; the size in
  the header is checked *before* any pixel is decoded (no decompression bombs). SVG is parsed
  without DTDs or entities (defusedxml), every reference must stay inside the document
  (``#fragment``) or be an embedded raster ``data:`` image, and resvg renders it at its intrinsic
  size.
* :func:`fetch` gets an image over :mod:`vidroom.kit.outbound` (SSRF rules, timeouts, size cap).

Every failure is ``errors.invalid`` (the meeting API's 400) with a message a user can act on.
"""

from __future__ import annotations

import dataclasses
import io
import re
import warnings
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import resvg_py
from defusedxml import DefusedXmlException
from PIL import Image, ImageOps

from vidroom import errors
from vidroom.kit.outbound import (
    OutboundClient,
    OutboundError,
    OutboundPolicy,
    RefusedURL,
    ResponseTooLarge,
)

MAX_FETCH_BYTES = 10 * 1024 * 1024
_CODE = "invalid_parameter"
_RASTER = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_DATA_IMAGE = re.compile(r"data:image/(png|jpeg|jpg|webp|gif)[;,]", re.IGNORECASE)
_URL_REF = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in)?\s*")
_UNIT_PX = {None: 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54}
_UNIT_PX["in"] = 96.0
_ROOT_TAG = re.compile(r"""<svg((?:\s+[^\s=>/]+\s*=\s*(?:"[^"]*"|'[^']*'))*)(\s*/?>)""")
_SIZE_ATTR = re.compile(r"""\s(?:width|height)\s*=\s*(?:"[^"]*"|'[^']*')""")


@dataclass(frozen=True)
class Picture:
    """Straight (not premultiplied) RGBA pixels, row by row."""

    width: int
    height: int
    rgba: bytes

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or len(self.rgba) != self.width * self.height * 4:
            raise ValueError("a Picture needs width*height*4 bytes of RGBA")

    def image(self) -> Image.Image:
        """The picture as a Pillow image (a copy)."""
        return Image.frombytes("RGBA", (self.width, self.height), self.rgba)


def _bad(message: str) -> errors.VidroomError:
    return errors.invalid(_CODE, message)


def _svg_start(data: bytes) -> bytes:
    """The SVG document after a BOM, whitespace, an XML declaration and comments."""
    text = data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<?xml"):
        end = text.find(b"?>")
        text = text[end + 2 :].lstrip() if end >= 0 else b""
    while text.startswith(b"<!--"):
        end = text.find(b"-->")
        text = text[end + 3 :].lstrip() if end >= 0 else b""
    return text


def sniff(data: bytes) -> str:
    """``"png"``, ``"jpeg"``, ``"webp"`` or ``"svg"``; anything else is a 400."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    start = _svg_start(data).lower()
    if re.match(rb"<svg[\s>/]", start) or start.startswith(b"<!doctype svg"):
        return "svg"
    raise _bad("the layer must be a PNG, JPEG, WebP or SVG image")


def decode(data: bytes, max_size: tuple[int, int]) -> Picture:
    """The image in ``data`` as RGBA, at most ``max_size`` (width, height); else a 400."""
    kind = sniff(data)
    if kind == "svg":
        return _decode_svg(data, max_size)
    return _decode_raster(data, kind, max_size)


def _check_size(width: int, height: int, max_size: tuple[int, int]) -> None:
    if width > max_size[0] or height > max_size[1]:
        raise _bad(f"the image is {width}x{height}; at most {max_size[0]}x{max_size[1]}")
    if width < 1 or height < 1:
        raise _bad(f"the image is {width}x{height}; it must be at least 1x1")


def _decode_raster(data: bytes, kind: str, max_size: tuple[int, int]) -> Picture:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_RASTER[kind]]) as img:
                # the header's size, before a single pixel is decoded
                _check_size(img.width, img.height, max_size)
                img.load()
                upright = ImageOps.exif_transpose(img)
                _check_size(upright.width, upright.height, max_size)
                rgba = upright.convert("RGBA")
    except errors.VidroomError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bad("the image is too large to decode") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _bad(f"the {kind.upper()} image is broken or truncated: {exc}"[:300]) from None
    return Picture(rgba.width, rgba.height, rgba.tobytes())


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _check_reference(value: str) -> None:
    ref = value.strip()
    if ref.startswith("#"):
        return
    if _DATA_IMAGE.match(ref):
        return
    if ref.lower().startswith("data:"):
        raise _bad("the SVG embeds data that is not a PNG, JPEG, WebP or GIF image")
    raise _bad(
        "the SVG refers to an outside resource; only #fragments and data: images are allowed"
    )


def _check_css(text: str) -> None:
    """Style text (a ``style`` attribute, a ``<style>`` element, a presentation attribute)."""
    if "\\" in text:
        raise _bad("the SVG's style uses CSS escapes; they are not allowed")
    if "@import" in text.lower():
        raise _bad("the SVG's style uses @import; outside resources are not allowed")
    for match in _URL_REF.finditer(text):
        _check_reference(match.group(2))


def _check_tree(root: Element) -> None:
    """Every reference stays inside the document (``#id``) or is an embedded raster image."""
    for element in root.iter():
        for name, value in element.attrib.items():
            if _local(name) == "href":
                _check_reference(value)
            elif "url(" in value.lower() or _local(name) == "style":
                _check_css(value)
        if _local(element.tag) == "style" and element.text:
            _check_css(element.text)


def _length(value: str | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.fullmatch(value)
    if match is None:
        return None  # percentages, em, ...: not an intrinsic size
    return float(match.group(1)) * _UNIT_PX[match.group(2)]


def _viewbox(value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    parts = value.replace(",", " ").split()
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return None
    if len(numbers) != 4 or numbers[2] <= 0 or numbers[3] <= 0:
        return None
    return numbers[2], numbers[3]


def _intrinsic(root: Element, max_size: tuple[int, int]) -> tuple[int, int]:
    """width/height (px), else the viewBox's size, else ``max_size``; one side from the ratio."""
    width, height = _length(root.get("width")), _length(root.get("height"))
    box = _viewbox(root.get("viewBox"))
    if width is None and height is None:
        width, height = box if box is not None else (float(max_size[0]), float(max_size[1]))
    elif width is None:
        assert height is not None
        width = height * box[0] / box[1] if box is not None else float(max_size[0])
    elif height is None:
        height = width * box[1] / box[0] if box is not None else float(max_size[1])
    return round(width), round(height)


def _sized(text: str, width: int, height: int) -> str:
    """``text`` with the root's width and height set to the size it is rendered at."""
    at = 0
    while True:
        at = len(text) - len(text[at:].lstrip("\ufeff \t\r\n"))
        closing = {"<?": "?>", "<!--": "-->"}
        opener = next((o for o in closing if text.startswith(o, at)), None)
        if opener is None:
            break
        end = text.find(closing[opener], at)
        if end < 0:
            raise _bad("the SVG is not well-formed XML")
        if text.startswith("<?xml-stylesheet", at):
            raise _bad("the SVG refers to a style sheet; outside resources are not allowed")
        at = end + len(closing[opener])
    tag = _ROOT_TAG.match(text, at)
    if tag is None:
        raise _bad("the SVG's root element is not <svg>")
    attributes = _SIZE_ATTR.sub("", tag.group(1))
    root = f'<svg width="{width}" height="{height}"{attributes}{tag.group(2)}'
    return text[:at] + root + text[tag.end() :]


def _decode_svg(data: bytes, max_size: tuple[int, int]) -> Picture:
    lowered = data.lower()
    if b"<!doctype" in lowered or b"<!entity" in lowered:
        raise _bad("the SVG has a DOCTYPE or ENTITY declaration; these are not allowed")
    if b"<?xml-stylesheet" in lowered:
        raise _bad("the SVG refers to a style sheet; outside resources are not allowed")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad("the SVG is not valid UTF-8") from None
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True)
    except DefusedXmlException:
        raise _bad("the SVG has a DOCTYPE or ENTITY declaration; these are not allowed") from None
    except SafeET.ParseError as exc:
        raise _bad(f"the SVG is not well-formed XML: {exc}") from None
    if _local(root.tag) != "svg":
        raise _bad("the SVG's root element is not <svg>")
    _check_tree(root)
    width, height = _intrinsic(root, max_size)
    _check_size(width, height, max_size)
    try:
        png = resvg_py.svg_to_bytes(svg_string=_sized(text, width, height))
    except (ValueError, OSError) as exc:
        raise _bad(f"the SVG cannot be rendered: {exc}"[:300]) from None
    with Image.open(io.BytesIO(bytes(png)), formats=["PNG"]) as img:
        rgba = img.convert("RGBA")
    if rgba.size != (width, height):
        raise _bad(f"the SVG rendered at {rgba.width}x{rgba.height}, not {width}x{height}")
    return Picture(rgba.width, rgba.height, rgba.tobytes())


async def fetch(url: str, policy: OutboundPolicy, *, max_bytes: int = MAX_FETCH_BYTES) -> bytes:
    """The body at ``url`` (HTTP 200, at most ``max_bytes``), under the outbound rules; or a 400."""
    client = OutboundClient(dataclasses.replace(policy, max_response_bytes=max_bytes))
    try:
        response = await client.request("GET", url, headers={"Accept": "image/*"})
    except RefusedURL as exc:
        raise _bad(f"the image URL is not allowed: {exc}") from None
    except ResponseTooLarge:
        raise _bad(f"the image at the URL is larger than {max_bytes} bytes") from None
    except OutboundError as exc:
        raise _bad(f"cannot fetch the image: {exc}") from None
    finally:
        await client.aclose()
    if response.status_code != 200:
        raise _bad(f"fetching the image answered HTTP {response.status_code}, not 200")
    if not response.body:
        raise _bad("the image at the URL is empty")
    return response.body
