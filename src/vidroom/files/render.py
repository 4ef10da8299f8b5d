"""PDF pages to PNG slides and thumbnails, with PDFium (``pypdfium2``).

PDFium is not thread-safe: every call into it runs on :data:`PDFIUM`, one thread shared by the
whole process, never on the event loop. A page is rendered at the scale that fits it into the
composite's canvas (1280x960, aspect kept) over white, and scaled down with Pillow to a
thumbnail :data:`THUMB_WIDTH` pixels wide.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

CANVAS = (1280, 960)
THUMB_WIDTH = 240
PDFIUM = ThreadPoolExecutor(1, thread_name_prefix="pdfium")


class ConversionFailed(Exception):
    """The PDF cannot be converted; the message says why, for the user."""


def open_pdf(path: Path, max_pages: int) -> pdfium.PdfDocument:
    """The document, or :class:`ConversionFailed` (unreadable, encrypted, empty, too long)."""
    try:
        doc = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ConversionFailed("the PDF is encrypted (password protected)") from None
        raise ConversionFailed("the file is not a readable PDF") from None
    pages = len(doc)
    if pages == 0 or pages > max_pages:
        doc.close()
        if pages == 0:
            raise ConversionFailed("the PDF has no pages")
        raise ConversionFailed(f"the PDF has {pages} pages, more than the {max_pages} allowed")
    return doc


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=6)
    return out.getvalue()


def render_page(doc: pdfium.PdfDocument, index: int) -> tuple[bytes, bytes]:
    """Page ``index`` as a PNG slide fitted into :data:`CANVAS` and a PNG thumbnail."""
    try:
        page = doc[index]
        try:
            width, height = page.get_size()
            if width <= 0 or height <= 0:
                raise ConversionFailed(f"page {index + 1} has no size")
            scale = min(CANVAS[0] / width, CANVAS[1] / height)
            image = page.render(scale=scale, fill_color=(255, 255, 255, 255)).to_pil()
        finally:
            page.close()
    except pdfium.PdfiumError:
        raise ConversionFailed(f"page {index + 1} cannot be rendered") from None
    image = image.convert("RGB")
    thumb_height = max(1, round(image.height * THUMB_WIDTH / image.width))
    thumb = image.resize((THUMB_WIDTH, thumb_height), Image.Resampling.LANCZOS)
    return _png(image), _png(thumb)


def close_pdf(doc: pdfium.PdfDocument) -> None:
    doc.close()
