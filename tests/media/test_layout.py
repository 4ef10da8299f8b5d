"""Grid geometry: shapes, re-flow, aspect-preserving fit, presenter layout."""

from __future__ import annotations

import pytest

from vidroom.media.layout import Rect, fit, grid, grid_shape, presenter

SIZE = (1280, 960)
WIDE = (1280, 720)


@pytest.mark.parametrize(
    ("count", "shape"),
    [
        (1, (1, 1)),
        (2, (2, 1)),
        (3, (2, 2)),
        (4, (2, 2)),
        (5, (3, 2)),
        (6, (3, 2)),
        (7, (3, 3)),
        (9, (3, 3)),
        (10, (4, 4)),
        (16, (4, 4)),
        (17, (5, 5)),
    ],
)
def test_grid_shape(count: int, shape: tuple[int, int]) -> None:
    assert grid_shape(count) == shape


def test_one_is_full_canvas_two_side_by_side() -> None:
    assert grid(1, SIZE) == [Rect(0, 0, 1280, 960)]
    assert grid(2, WIDE) == [Rect(0, 0, 640, 720), Rect(640, 0, 640, 720)]
    assert grid(0, SIZE) == []


def test_four_is_2x2_and_three_centres_the_last_row() -> None:
    assert grid(4, SIZE) == [
        Rect(0, 0, 640, 480),
        Rect(640, 0, 640, 480),
        Rect(0, 480, 640, 480),
        Rect(640, 480, 640, 480),
    ]
    assert grid(3, SIZE)[2] == Rect(320, 480, 640, 480)


@pytest.mark.parametrize("count", range(1, 18))
@pytest.mark.parametrize("size", [SIZE, WIDE])
def test_cells_are_even_inside_and_disjoint(count: int, size: tuple[int, int]) -> None:
    cells = grid(count, size)
    assert len(cells) == count
    for cell in cells:
        assert all(v % 2 == 0 for v in (cell.x, cell.y, cell.width, cell.height))
        assert cell.x >= 0
        assert cell.x + cell.width <= size[0]
        assert cell.y >= 0
        assert cell.y + cell.height <= size[1]
    for i, a in enumerate(cells):
        for b in cells[i + 1 :]:
            assert (
                a.x + a.width <= b.x
                or b.x + b.width <= a.x
                or a.y + a.height <= b.y
                or b.y + b.height <= a.y
            )


def test_fit_letterboxes_and_pillarboxes() -> None:
    cell = Rect(0, 0, 640, 480)  # 4:3
    assert fit(cell, (1280, 720)) == Rect(0, 60, 640, 360)  # 16:9 letterboxed
    assert fit(cell, (640, 480)) == cell
    tall = Rect(100, 0, 640, 720)  # a 16:9 picture in a narrow cell
    assert fit(tall, (1920, 1080)) == Rect(100, 180, 640, 360)
    assert fit(Rect(0, 0, 640, 360), (480, 640)) == Rect(184, 0, 270, 360)  # pillarboxed portrait
    assert fit(cell, (0, 0)) == cell


def test_presenter_layout() -> None:
    assert presenter(1, SIZE) == [Rect(0, 0, 1280, 960)]
    cells = presenter(4, SIZE)
    assert cells[0] == Rect(0, 0, 1280, 768)
    assert [c.y for c in cells[1:]] == [768] * 3
    assert all(c.height == 192 and c.width == 212 for c in cells[1:])
    many = presenter(10, WIDE)
    assert len(many) == 10
    assert many[-1].x + many[-1].width <= 1280
