"""Pure geometry of the composite: where each participant's picture goes (no av, no numpy).

Every rectangle is on even pixel coordinates with even sizes, so it maps exactly onto the
half-resolution chroma planes of a yuv420p canvas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    width: int
    height: int


def _even(value: float) -> int:
    return int(value) // 2 * 2


def grid_shape(count: int) -> tuple[int, int]:
    """(columns, rows) for ``count`` tiles: 1→1x1, 2→2x1, 3-4→2x2, 5-6→3x2, 7-9→3x3,
    10-16→4x4; beyond 16 the square grid grows (5x5, ...)."""
    if count <= 1:
        return (1, 1)
    if count == 2:
        return (2, 1)
    if count <= 4:
        return (2, 2)
    if count <= 6:
        return (3, 2)
    if count <= 9:
        return (3, 3)
    side = 4
    while side * side < count:
        side += 1
    return (side, side)


def grid(count: int, size: tuple[int, int]) -> list[Rect]:
    """The cells of a ``count``-tile grid over a canvas of ``size`` (left to right, top to
    bottom). A last row that is not full is centred."""
    if count <= 0:
        return []
    width, height = size
    cols, rows = grid_shape(count)
    cell_w, cell_h = _even(width / cols), _even(height / rows)
    off_y = _even((height - rows * cell_h) / 2)
    cells: list[Rect] = []
    for index in range(count):
        row, col = divmod(index, cols)
        in_row = min(cols, count - row * cols)
        off_x = _even((width - in_row * cell_w) / 2)
        cells.append(Rect(off_x + col * cell_w, off_y + row * cell_h, cell_w, cell_h))
    return cells


def presenter(count: int, size: tuple[int, int]) -> list[Rect]:
    """The presenter layout: cell 0 is the big tile on top, the other ``count - 1`` share a
    strip along the bottom (a fifth of the height; cells a sixth of the width, narrower
    when more than six share the strip)."""
    if count <= 1:
        return grid(count, size)
    width, height = size
    strip_h = _even(height / 5)
    others = count - 1
    per_row = max(6, others)
    cell_w = _even(width / per_row)
    cells = [Rect(0, 0, width, height - strip_h)]
    off_x = _even((width - others * cell_w) / 2)
    cells.extend(Rect(off_x + i * cell_w, height - strip_h, cell_w, strip_h) for i in range(others))
    return cells


def fit(cell: Rect, content: tuple[int, int], margin: int = 0) -> Rect:
    """The largest rectangle of the content's aspect ratio inside ``cell`` (minus ``margin``
    on each side), centred: 16:9 or 4:3 content letterboxed or pillarboxed into the cell."""
    content_w, content_h = content
    avail_w = max(2, cell.width - 2 * margin)
    avail_h = max(2, cell.height - 2 * margin)
    if content_w <= 0 or content_h <= 0:
        return Rect(cell.x + margin, cell.y + margin, _even(avail_w), _even(avail_h))
    scale = min(avail_w / content_w, avail_h / content_h)
    width = max(2, min(_even(avail_w), _even(content_w * scale)))
    height = max(2, min(_even(avail_h), _even(content_h * scale)))
    x = cell.x + _even((cell.width - width) / 2)
    y = cell.y + _even((cell.height - height) / 2)
    return Rect(x, y, width, height)


def cover(cell: Rect, content: tuple[int, int]) -> Rect:
    """The smallest rectangle of the content's aspect ratio that covers ``cell``, centred on
    it (it may start left of / above the cell: the overhang is cropped)."""
    content_w, content_h = content
    if content_w <= 0 or content_h <= 0:
        return cell
    scale = max(cell.width / content_w, cell.height / content_h)
    width = max(cell.width, _even(content_w * scale + 1))
    height = max(cell.height, _even(content_h * scale + 1))
    x = cell.x - _even((width - cell.width) / 2)
    y = cell.y - _even((height - cell.height) / 2)
    return Rect(x, y, width, height)


FITS = ("auto", "contain", "cover")


@dataclass(frozen=True)
class Spot:
    """A place in a layout: its rectangle and how a picture fills it (``auto``: cameras
    cover, screen shares and slides contain)."""

    rect: Rect
    fit: str = "auto"


def _box(size: tuple[int, int], x: float, y: float, w: float, h: float) -> Rect:
    """A rectangle given in fractions of the canvas, on even pixels."""
    width, height = size
    return Rect(_even(x * width), _even(y * height), _even(w * width), _even(h * height))


def _row(
    size: tuple[int, int], count: int, y: float, h: float, x: float = 0.0, w: float = 1.0
) -> list[Rect]:
    return [_box(size, x + i * w / count, y, w / count, h) for i in range(count)]


def _column(size: tuple[int, int], count: int, x: float, w: float) -> list[Rect]:
    return [_box(size, x, i / count, w, 1 / count) for i in range(count)]


def _present_upper_right_9(size: tuple[int, int]) -> list[Rect]:
    small = [_box(size, 2 / 3 + (i % 3) / 9, (i // 3) / 9, 1 / 9, 1 / 9) for i in range(9)]
    return [_box(size, 0, 0, 1, 1), *small]


NAMED: dict[str, Callable[[tuple[int, int]], list[Rect]]] = {
    "one": lambda s: grid(1, s),
    "two": lambda s: grid(2, s),
    "four": lambda s: grid(4, s),
    "six": lambda s: grid(6, s),
    "nine": lambda s: grid(9, s),
    # the big spot (spot one) first, then the small ones
    "present-lower-3": lambda s: [_box(s, 0, 0, 1, 0.75), *_row(s, 3, 0.75, 0.25)],
    "present-upper-6": lambda s: [_box(s, 0, 0.2, 1, 0.8), *_row(s, 6, 0, 0.2)],
    "present-two-upper-6": lambda s: [
        *_row(s, 2, 0.2, 0.8),
        *_row(s, 6, 0, 0.2),
    ],
    "present-upper-right-9": _present_upper_right_9,
    "present-vertical-9": lambda s: [_box(s, 0, 0, 0.8, 1), *_column(s, 9, 0.8, 0.2)],
}
# the layouts whose first spot(s) are for a presentation (screen share or slide)
PRESENT_SPOTS = {
    name: (2 if name == "present-two-upper-6" else 1)
    for name in NAMED
    if name.startswith("present")
}


def named(name: str, size: tuple[int, int]) -> list[Rect]:
    """The spots of a named layout (``one`` ... ``present-vertical-9``); KeyError if unknown."""
    return NAMED[name](size)


def spots_of_map(boxes: list[list[float | str]], size: tuple[int, int]) -> list[Spot]:
    """A custom map's boxes ``[x, y, w, h, fit]`` in canvas pixels (already validated), clipped
    to the canvas, on even pixels."""
    width, height = size
    result: list[Spot] = []
    for box in boxes:
        x, y, w, h = (float(v) for v in box[:4])
        fit_mode = str(box[4]) if len(box) > 4 else "auto"
        left, top = _even(min(max(x, 0), width - 2)), _even(min(max(y, 0), height - 2))
        right, bottom = min(width, int(x + w)), min(height, int(y + h))
        result.append(
            Spot(
                Rect(left, top, max(2, _even(right - left)), max(2, _even(bottom - top))), fit_mode
            )
        )
    return result
