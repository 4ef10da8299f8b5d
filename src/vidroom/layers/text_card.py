"""The text card (the meeting API's ``insert[title]``/``insert[content]``/``insert[icon]``).

A full-canvas RGBA picture, transparent everywhere except a lower-third card: rounded, dark and
translucent, in the bottom-left area, about half the canvas wide, with a margin from the edges.
An optional icon sits on its left; the title is bold and the content regular (the bundled DejaVu
fonts). Text of any length is wrapped to the card's width and cut with "…" so it never leaves
the card: everything is drawn on an image the size of :func:`text_card_box`.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

from vidroom.layers.intake import Picture

ELLIPSIS = "…"
CARD_FILL = (16, 18, 24, 200)
TITLE_COLOUR = (255, 255, 255, 255)
CONTENT_COLOUR = (225, 228, 235, 255)
TITLE_LINES = 1
Font = ImageFont.FreeTypeFont


def text_card_box(canvas: tuple[int, int]) -> tuple[int, int, int, int]:
    """The card's (x, y, width, height) on a ``canvas`` of (width, height) pixels."""
    width, height = canvas
    margin_x = max(1, round(width * 0.04))
    margin_y = max(1, round(height * 0.06))
    card_w = max(1, round(width * 0.5))
    card_h = max(1, round(height * 0.22))
    return margin_x, height - margin_y - card_h, card_w, card_h


@cache
def _font(bold: bool, size: int) -> Font:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    with resources.as_file(resources.files("vidroom.layers") / "fonts" / name) as path:
        return ImageFont.truetype(str(path), size)


def _clean(text: str) -> str:
    """Text to draw: normalized, newlines kept, other control characters as spaces."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    return "".join(
        c if c == "\n" or unicodedata.category(c)[0] != "C" else " " for c in text
    ).strip()


def _fit(text: str, font: Font, width: int) -> str:
    """``text`` shortened with an ellipsis until it fits ``width``."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text.rstrip() + ELLIPSIS) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS if text else ELLIPSIS


def _split_long(word: str, font: Font, width: int) -> list[str]:
    """A word wider than a line, in pieces that each fit (CJK text has no spaces at all)."""
    pieces: list[str] = []
    current = ""
    for char in word:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, font: Font, width: int, max_lines: int) -> list[str]:
    """``text`` in lines that fit ``width``; at most ``max_lines``, the last cut with "…"."""
    if max_lines <= 0:
        return []
    lines: list[str] = []
    for paragraph in _clean(text).split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if font.getlength(candidate) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            pieces = _split_long(word, font, width)
            lines.extend(pieces[:-1])
            current = pieces[-1]
        lines.append(current)
    while lines and not lines[-1]:
        lines.pop()
    if len(lines) > max_lines:
        kept = lines[:max_lines]
        kept[-1] = _fit(kept[-1] + " " + lines[max_lines], font, width)
        if not kept[-1].endswith(ELLIPSIS):
            kept[-1] = _fit(kept[-1] + ELLIPSIS, font, width)
        return kept
    return lines


def _icon(icon: Picture, side: int) -> Image.Image:
    image = icon.image()
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return image


def render_text_card(
    title: str, content: str, icon: Picture | None, canvas: tuple[int, int]
) -> Picture:
    """The card on a transparent ``canvas``; every visible pixel is inside :func:`text_card_box`."""
    x, y, card_w, card_h = text_card_box(canvas)
    card = Image.new("RGBA", (card_w, card_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(card)
    radius = max(1, round(card_h * 0.12))
    draw.rounded_rectangle((0, 0, card_w - 1, card_h - 1), radius=radius, fill=CARD_FILL)

    pad = max(1, round(card_h * 0.1))
    text_x = pad
    if icon is not None:
        side = card_h - 2 * pad
        if side > 0:
            picture = _icon(icon, side)
            top = pad + (side - picture.height) // 2
            card.alpha_composite(picture, (pad + (side - picture.width) // 2, top))
            text_x = pad + side + pad
    text_w = card_w - text_x - pad
    text_h = card_h - 2 * pad
    if text_w <= 0 or text_h <= 0:
        return _on_canvas(card, canvas, (x, y))

    title_font = _font(True, max(6, round(card_h * 0.2)))
    content_font = _font(False, max(6, round(card_h * 0.14)))
    title_lines = wrap(title, title_font, text_w, TITLE_LINES)
    title_step = round(title_font.size * 1.25)
    content_step = round(content_font.size * 1.3)
    room = text_h - title_step * len(title_lines)
    content_lines = wrap(content, content_font, text_w, max(0, room // content_step))

    cursor = pad
    for line in title_lines:
        draw.text((text_x, cursor), line, font=title_font, fill=TITLE_COLOUR)
        cursor += title_step
    for line in content_lines:
        draw.text((text_x, cursor), line, font=content_font, fill=CONTENT_COLOUR)
        cursor += content_step
    return _on_canvas(card, canvas, (x, y))


def _on_canvas(card: Image.Image, canvas: tuple[int, int], at: tuple[int, int]) -> Picture:
    full = Image.new("RGBA", canvas, (0, 0, 0, 0))
    full.paste(card, at)
    return Picture(full.width, full.height, full.tobytes())
