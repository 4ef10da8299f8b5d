"""Pure geometry of the composite: where each participant's picture goes (no av, no numpy).

Every rectangle is on even pixel coordinates with even sizes, so it maps exactly onto the
half-resolution chroma planes of a yuv420p canvas.
"""

from __future__ import annotations

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
