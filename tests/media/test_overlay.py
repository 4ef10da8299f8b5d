"""Overlays in the composite's own format: opaque pixels replace, translucent ones blend,
transparent ones leave the canvas alone; dense (box) and sparse (pixel list) paths agree."""

from __future__ import annotations

import numpy as np
import pytest

from vidroom.media.compositor import Canvas, rgb_to_yuv
from vidroom.media.layout import Rect
from vidroom.media.overlay import Overlay

SIZE = (64, 48)


def canvas(yuv: tuple[int, int, int]) -> Canvas:
    c = Canvas(SIZE)
    c.fill(Rect(0, 0, *SIZE), yuv)
    return c


@pytest.mark.parametrize("sparse", [False, True])
def test_opaque_translucent_and_transparent(sparse: bool) -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[:10, :10] = (255, 0, 0, 255)  # opaque red
    rgba[10:, 10:] = (0, 0, 255, 128)  # half-transparent blue
    if sparse:  # a thin frame: far below the dense threshold
        rgba[:, :] = 0
        rgba[0:2, :] = (255, 0, 0, 255)
        rgba[:, 0:2] = (255, 0, 0, 255)
    c = canvas((16, 128, 128))  # black
    Overlay(rgba.tobytes(), 20, 20, SIZE).blend(c.y, c.u, c.v)
    red = rgb_to_yuv((255, 0, 0))
    assert abs(int(c.y[0, 0]) - red[0]) <= 1
    assert abs(int(c.v[0, 0]) - red[2]) <= 1
    assert c.y[30, 30] == 16  # outside the picture: untouched
    if not sparse:
        blue = rgb_to_yuv((0, 0, 255))
        assert abs(int(c.y[15, 15]) - (16 + blue[0]) / 2) <= 2
        assert c.y[5, 15] == 16  # transparent inside the picture: untouched
    else:
        assert c.y[10, 10] == 16


def test_a_picture_larger_than_the_canvas_is_cut() -> None:
    rgba = np.full((100, 100, 4), 255, np.uint8)
    c = canvas((16, 128, 128))
    Overlay(rgba.tobytes(), 100, 100, SIZE).blend(c.y, c.u, c.v)
    assert (c.y >= 234).all()
    with pytest.raises(ValueError, match="rgba"):
        Overlay(b"123", 2, 2, SIZE)
