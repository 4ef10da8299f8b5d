"""PDFs made in the tests with Pillow: solid-colour pages."""

from __future__ import annotations

import io

from PIL import Image

RED, GREEN, BLUE = (220, 30, 30), (30, 200, 60), (40, 60, 220)


def pdf_of(colors: list[tuple[int, int, int]], size: tuple[int, int] = (400, 300)) -> bytes:
    """A PDF with one page per colour (each page ``size`` points, one solid image)."""
    pages = [Image.new("RGB", size, color) for color in colors]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=72.0)
    return out.getvalue()
