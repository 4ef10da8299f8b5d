"""The compositor: colours in their tiles, background, names only when asked, sizes, cost."""

from __future__ import annotations

import time

import av
import numpy as np
import pytest

from vidroom.media.compositor import Compositor, TileSource, parse_color, render_label, rgb_to_yuv
from vidroom.media.contract import RoomSpec
from vidroom.media.layout import fit, grid


def solid(rgb: tuple[int, int, int], size: tuple[int, int] = (640, 360)) -> av.VideoFrame:
    picture = np.empty((size[1], size[0], 3), np.uint8)
    picture[:] = rgb
    return av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")


def rgb_at(frame: av.VideoFrame, x: int, y: int) -> tuple[int, int, int]:
    patch = frame.to_ndarray(format="rgb24")[y - 2 : y + 2, x - 2 : x + 2].reshape(-1, 3).mean(0)
    return (int(patch[0]), int(patch[1]), int(patch[2]))


def near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


COLOURS = [(220, 20, 20), (20, 200, 20), (20, 20, 220), (220, 220, 20)]


def test_colours_land_in_their_tiles_and_background_fills_the_rest() -> None:
    size = RoomSpec("m").size
    comp = Compositor(size, "#336699", show_names=False)
    cells = grid(4, size)
    out = comp.compose(
        cells,
        [TileSource(str(i), f"n{i}", solid(c), fit="contain") for i, c in enumerate(COLOURS)],
    )
    assert (out.width, out.height, out.format.name) == (1280, 960, "yuv420p")
    for cell, colour in zip(cells, COLOURS, strict=True):
        assert near(rgb_at(out, cell.x + cell.width // 2, cell.y + cell.height // 2), colour)
        picture = fit(cell, (640, 360))
        assert picture.y > cell.y  # 16:9 in a 4:3 cell, contained: letterboxed
        assert near(rgb_at(out, cell.x + 50, cell.y + 10), (0x33, 0x66, 0x99))


def test_cover_fills_the_cell_and_crops_the_centre() -> None:
    """A camera tile (the default fit) fills its cell: no bands; what is cut is the sides."""
    size = RoomSpec("m").size
    comp = Compositor(size, "#336699", show_names=False)
    cells = grid(2, size)  # two 640x960 cells: 16:9 pictures in tall cells
    # left quarter red, middle half green, right quarter blue: the crop keeps the middle
    picture = np.empty((360, 640, 3), np.uint8)
    picture[:, :160] = (220, 20, 20)
    picture[:, 160:480] = (20, 200, 20)
    picture[:, 480:] = (20, 20, 220)
    frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
    out = comp.compose(cells, [TileSource("a", "a", frame), TileSource("b", "b", frame)])
    rgb = out.to_ndarray(format="rgb24").astype(int)
    for cell in cells:
        for y in (4, 480, 955):
            for x in (cell.x + 4, cell.x + 320, cell.x + 635):
                assert near(rgb_at(out, x, y), (20, 200, 20), 10), (x, y)  # only the middle
    background = np.array((0x33, 0x66, 0x99))
    assert not (np.abs(rgb - background).sum(axis=2) < 12).any()  # no band anywhere


def test_widescreen_size_and_reflow() -> None:
    spec = RoomSpec("m", widescreen=True)
    comp = Compositor(spec.size, spec.background_color, show_names=True)
    sources = [TileSource(str(i), f"n{i}", solid(c)) for i, c in enumerate(COLOURS[:3])]
    out = comp.compose(grid(3, spec.size), sources)
    assert (out.width, out.height) == (1280, 720)
    out = comp.compose(grid(2, spec.size), [sources[0], sources[2]])
    assert near(rgb_at(out, 960, 360), COLOURS[2])
    rgb = out.to_ndarray(format="rgb24").astype(int)
    assert not ((rgb[:, :, 1] > 150) & (rgb[:, :, 0] < 100)).any()  # green is gone


def count_bright(frame: av.VideoFrame) -> int:
    luma = frame.to_ndarray()[: frame.height]
    return int((luma > 200).sum())


def test_names_only_when_show_names() -> None:
    size = (1280, 720)
    cells = grid(2, size)
    dark = [
        TileSource("a", "Alice", solid((10, 10, 10))),
        TileSource("b", "Bob", solid((10, 10, 10))),
    ]
    with_names = Compositor(size, "#000000", show_names=True).compose(cells, dark)
    without = Compositor(size, "#000000", show_names=False).compose(cells, dark)
    assert count_bright(without) == 0
    assert count_bright(with_names) > 100
    bright = np.argwhere(with_names.to_ndarray()[:720] > 200)
    assert bright[:, 0].min() > 720 * 0.75  # under the tile, at the bottom of its cell


def test_video_muted_tile_is_dark_with_the_name_even_without_show_names() -> None:
    size = (1280, 720)
    comp = Compositor(size, "#000000", show_names=False)
    out = comp.compose(grid(1, size), [TileSource("a", "Muted Person", None)])
    y = rgb_at(out, 640, 200)
    assert max(y) < 50
    assert near(y, (y[0], y[0], y[0]), 3)
    assert count_bright(out) > 50


def test_colours_and_labels_are_cached() -> None:
    assert parse_color("#fff") == (255, 255, 255)
    assert parse_color("nonsense") == parse_color("#121212")
    assert rgb_to_yuv((0, 0, 0)) == (16, 128, 128)
    assert render_label("Alice", 20) is render_label("Alice", 20)


@pytest.mark.parametrize("count", [4, 9, 16])
def test_composite_cost(count: int) -> None:
    size = (1280, 720)
    comp = Compositor(size, "#121212", show_names=True)
    sets = [[solid((i * 13 % 255, 90, k * 100)) for i in range(count)] for k in range(2)]
    cells = grid(count, size)
    started = time.thread_time()
    for round_ in range(20):  # every frame new: every tile is rescaled
        frames = sets[round_ % 2]
        comp.compose(cells, [TileSource(str(i), f"P {i}", f) for i, f in enumerate(frames)])
    spent = (time.thread_time() - started) / 20 * 1000
    print(f"compose {count} tiles into 1280x720: {spent:.2f} ms of CPU")
    assert spent < 40  # CPU time, so contention does not count; about 1-4 ms here
