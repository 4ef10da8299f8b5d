"""The audio insert (layout option ``audio_insert``): a participant who speaks but is not seen
gets a small name card on the composite, so viewers of a recording or broadcast know who
talks.

``enabled``: every speaker without a tile of their own (a fixed layout left them out);
``audio_only`` (the default): only speakers without a picture (camera off or none) who have no
tile either (a hosted service's default: a muted camera's tile already shows the name);
``disabled``: never. The cards stack downwards from ``audio_insert_position`` (x, y in canvas
pixels), or from the bottom-right corner when no position is set. Pure: no av, no numpy.
"""

from __future__ import annotations

from collections.abc import Iterable

MODES = ("enabled", "audio_only", "disabled")
MARGIN = 16
GAP = 6


def speakers(
    mode: str,
    speaking: Iterable[str],
    placed: set[str],
    pictured: set[str],
) -> list[str]:
    """Who gets a card, in speaking order: ``speaking`` keys not in ``placed`` (with a tile);
    ``audio_only`` also leaves out those in ``pictured`` (sending video)."""
    if mode == "disabled":
        return []
    out = []
    for key in speaking:
        if key in placed or key in out:
            continue
        if mode == "audio_only" and key in pictured:
            continue
        out.append(key)
    return out


def origins(
    sizes: list[tuple[int, int]],
    position: tuple[int, int] | None,
    canvas: tuple[int, int],
) -> list[tuple[int, int]]:
    """Top-left corners (even, inside the canvas) for cards of ``sizes``, stacked downwards
    from ``position`` or upwards from the bottom-right corner."""
    width, height = canvas
    out: list[tuple[int, int]] = []
    if position is not None:
        x0, y = position
        for w, h in sizes:
            x = min(max(0, x0), max(0, width - w))
            out.append((x // 2 * 2, min(max(0, y), max(0, height - h)) // 2 * 2))
            y += h + GAP
        return out
    y = height - MARGIN
    for w, h in sizes:
        y -= h
        out.append((max(0, width - MARGIN - w) // 2 * 2, max(0, y) // 2 * 2))
        y -= GAP
    return out
