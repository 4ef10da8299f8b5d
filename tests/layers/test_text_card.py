"""The text card: drawn with the bundled fonts, never outside its box, text wrapped and cut."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vidroom.layers.intake import Picture
from vidroom.layers.text_card import (
    ELLIPSIS,
    _font,
    render_text_card,
    text_card_box,
    wrap,
)

CANVASES = [(1280, 720), (1280, 960), (640, 360)]
LONG_LATIN = "The quarterly review of the infrastructure programme and its budget " * 12
LONG_CJK = "会議の議事録を作成し全員に共有してください今日の議題は予算と人員計画です" * 10
LONG_ARABIC = "مرحبا بكم في الاجتماع السنوي لمراجعة الميزانية والخطط القادمة " * 10


def visible_bounds(picture: Picture) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of every pixel with some alpha, or None when all transparent."""
    alpha = picture.image().getchannel("A")
    return alpha.getbbox()


def assert_inside_box(picture: Picture, canvas: tuple[int, int]) -> None:
    assert (picture.width, picture.height) == canvas
    x, y, w, h = text_card_box(canvas)
    bounds = visible_bounds(picture)
    assert bounds is not None
    left, top, right, bottom = bounds
    assert left >= x
    assert top >= y
    assert right <= x + w
    assert bottom <= y + h


def test_box_is_a_lower_third_in_the_bottom_left() -> None:
    x, y, w, h = text_card_box((1280, 720))
    assert 0.4 * 1280 <= w <= 0.6 * 1280
    assert x > 0
    assert y + h < 720
    assert y > 720 / 2
    assert x + w < 1280 / 2 + 0.1 * 1280


@pytest.mark.parametrize("canvas", CANVASES)
@pytest.mark.parametrize("content", ["", "short", LONG_LATIN, LONG_CJK, LONG_ARABIC])
def test_pixels_only_inside_the_box(canvas: tuple[int, int], content: str) -> None:
    picture = render_text_card("Title " * 30, content, None, canvas)
    assert_inside_box(picture, canvas)


def test_card_is_dark_translucent_and_rounded() -> None:
    canvas = (1280, 720)
    picture = render_text_card("", "", None, canvas)
    x, y, w, h = text_card_box(canvas)
    image = picture.image()
    r, g, b, a = image.getpixel((x + w // 2, y + h - 3))  # type: ignore[misc]
    assert 100 < a < 255
    assert max(r, g, b) < 60
    assert image.getpixel((x, y))[3] == 0  # type: ignore[index]
    assert image.getpixel((x + w - 1, y + h - 1))[3] == 0  # type: ignore[index]


def test_title_is_drawn_in_light_colour() -> None:
    canvas = (1280, 720)
    empty = render_text_card("", "", None, canvas).image()
    titled = render_text_card("Jane Doe", "", None, canvas).image()
    x, y, w, h = text_card_box(canvas)
    inner = (x + 10, y + 10, x + w - 10, y + h - 10)
    assert count_light(titled.crop(inner)) > 200
    assert count_light(empty.crop(inner)) == 0


def count_light(image: Image.Image) -> int:
    """Pixels that are light and nearly opaque (text on the dark card)."""
    pixels = np.asarray(image.convert("RGBA"))
    light = (pixels[:, :, :3].min(axis=2) > 180) & (pixels[:, :, 3] > 200)
    return int(light.sum())


def test_bundled_fonts_bold_and_regular() -> None:
    assert _font(True, 30).getname() == ("DejaVu Sans", "Bold")
    assert _font(False, 30).getname() == ("DejaVu Sans", "Book")


@pytest.mark.parametrize("text", [LONG_LATIN, LONG_CJK, LONG_ARABIC])
def test_long_text_wraps_to_width_and_is_cut(text: str) -> None:
    font = _font(False, 20)
    lines = wrap(text, font, 300, 3)
    assert len(lines) == 3
    assert all(font.getlength(line) <= 300 for line in lines)
    assert lines[-1].endswith(ELLIPSIS)
    assert not lines[0].endswith(ELLIPSIS)


def test_short_text_is_not_cut_and_newlines_are_kept() -> None:
    font = _font(False, 20)
    assert wrap("one\ntwo", font, 300, 3) == ["one", "two"]
    assert wrap("hello\x00world", font, 300, 3) == ["hello world"]
    assert wrap("", font, 300, 3) == []
    assert wrap("anything", font, 300, 0) == []


def test_one_unbroken_word_is_split() -> None:
    font = _font(False, 20)
    lines = wrap("x" * 500, font, 100, 500)
    assert len(lines) > 1
    assert all(font.getlength(line) <= 100 for line in lines)
    assert "".join(lines) == "x" * 500


def test_icon_is_drawn_on_the_left_inside_the_card() -> None:
    canvas = (1280, 720)
    red = Image.new("RGBA", (500, 250), (255, 0, 0, 255))
    icon = Picture(red.width, red.height, red.tobytes())
    picture = render_text_card("Title", LONG_LATIN, icon, canvas)
    assert_inside_box(picture, canvas)
    image = picture.image()
    x, y, w, h = text_card_box(canvas)
    reds = [
        (px, py)
        for py in range(y, y + h, 2)
        for px in range(x, x + w, 2)
        if image.getpixel((px, py))[:3] == (255, 0, 0)  # type: ignore[index]
    ]
    assert reds
    assert max(px for px, _ in reds) < x + w // 3
    # aspect ratio kept: twice as wide as tall
    width = max(px for px, _ in reds) - min(px for px, _ in reds)
    height = max(py for _, py in reds) - min(py for _, py in reds)
    assert 1.7 < width / max(1, height) < 2.3


def test_empty_title_with_content_ok() -> None:
    canvas = (1280, 720)
    picture = render_text_card("", "Only a line of content", None, canvas)
    assert_inside_box(picture, canvas)
    assert count_light(picture.image()) > 100
