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


def encrypted(pdf: bytes) -> bytes:
    """``pdf`` declared encrypted with the standard handler (RC4, revision 2) under a user
    password that is not empty: any reader needs a password it is not given."""
    handler = (
        b"/Encrypt << /Filter /Standard /V 1 /R 2 /O <"
        + b"ab" * 32
        + b"> /U <"
        + b"cd" * 32
        + b"> /P -4 >>\n/ID [<"
        + b"01" * 16
        + b"> <"
        + b"01" * 16
        + b">]\n"
    )
    return pdf.replace(b"trailer\n<<\n", b"trailer\n<<\n" + handler, 1)
