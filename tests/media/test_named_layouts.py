"""Named layouts, custom maps and cover geometry."""

from __future__ import annotations

import pytest

from vidroom.media.layout import NAMED, PRESENT_SPOTS, Rect, cover, named, spots_of_map

SIZES = [(1280, 960), (1280, 720)]
COUNTS = {
    "one": 1,
    "two": 2,
    "four": 4,
    "six": 6,
    "nine": 9,
    "present-lower-3": 4,
    "present-upper-6": 7,
    "present-two-upper-6": 8,
    "present-upper-right-9": 10,
    "present-vertical-9": 10,
}


def test_every_named_layout_is_known() -> None:
    assert set(NAMED) == set(COUNTS)
    assert set(PRESENT_SPOTS) == {n for n in COUNTS if n.startswith("present")}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", sorted(COUNTS))
def test_named_layout_spots_are_even_and_inside(name: str, size: tuple[int, int]) -> None:
    cells = named(name, size)
    assert len(cells) == COUNTS[name]
    for cell in cells:
        assert all(v % 2 == 0 for v in (cell.x, cell.y, cell.width, cell.height))
        assert cell.width > 0
        assert cell.height > 0
        assert cell.x + cell.width <= size[0]
        assert cell.y + cell.height <= size[1]


def test_present_layouts_put_the_big_spot_first() -> None:
    size = (1280, 720)
    assert named("present-lower-3", size)[0] == Rect(0, 0, 1280, 540)
    assert named("present-lower-3", size)[1:] == [
        Rect(0, 540, 426, 180),
        Rect(426, 540, 426, 180),
        Rect(852, 540, 426, 180),
    ]
    big = named("present-upper-6", size)[0]
    assert (big.y, big.width) == (144, 1280)
    assert all(c.y == 0 for c in named("present-upper-6", size)[1:])
    two = named("present-two-upper-6", size)
    assert two[0].width == two[1].width == 640
    assert two[0].y == two[1].y == 144
    vertical = named("present-vertical-9", size)
    assert vertical[0] == Rect(0, 0, 1024, 720)
    assert all(c.x == 1024 for c in vertical[1:])


def test_map_boxes_are_clipped_and_keep_their_fit() -> None:
    spots = spots_of_map(
        [[0, 0, 640, 360, "cover"], [640, 360, 1000, 1000, "contain"]], (1280, 720)
    )
    assert spots[0].rect == Rect(0, 0, 640, 360)
    assert spots[0].fit == "cover"
    assert spots[1].rect == Rect(640, 360, 640, 360)
    assert spots[1].fit == "contain"
    assert spots_of_map([[1, 3, 101, 51]], (1280, 720))[0].rect == Rect(0, 2, 102, 52)


@pytest.mark.parametrize(
    ("cell", "content"),
    [
        (Rect(0, 0, 640, 960), (640, 360)),
        (Rect(640, 480, 640, 480), (1280, 720)),
        (Rect(0, 0, 426, 240), (640, 480)),
    ],
)
def test_cover_covers_the_cell(cell: Rect, content: tuple[int, int]) -> None:
    out = cover(cell, content)
    assert out.x <= cell.x
    assert out.y <= cell.y
    assert out.x + out.width >= cell.x + cell.width
    assert out.y + out.height >= cell.y + cell.height
    assert abs(out.width / out.height - content[0] / content[1]) < 0.02
    assert (cell.x - out.x) % 2 == 0
    assert (cell.y - out.y) % 2 == 0
