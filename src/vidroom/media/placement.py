"""Who is where in the composite: a room spec's layout applied to its participants (pure:
participant ids in, spots out; no av)."""

from __future__ import annotations

from vidroom.media import layout
from vidroom.media.contract import RoomSpec


def fixed_spots(spec: RoomSpec) -> list[layout.Spot] | None:
    """The spots of a fixed layout (a custom map or a named layout); None: the grid."""
    if spec.layout_map:
        return layout.spots_of_map(spec.layout_map, spec.size)
    if spec.layout_name in layout.NAMED:
        return [layout.Spot(r) for r in layout.named(spec.layout_name, spec.size)]
    if spec.layout == "custom" and spec.layout_users:
        return [layout.Spot(r) for r in layout.grid(len(spec.layout_users), spec.size)]
    return None


def place(spec: RoomSpec, order: list[str], presenter: str | None) -> list[tuple[layout.Spot, str]]:
    """``order``: the participants in composite order. ``layout_users`` take their spots in
    order; with ``layout`` "auto" every other spot goes to the others in composite order, with
    "custom" it stays free. Without a fixed layout: the grid (or the presenter layout) of
    everyone."""
    spots = fixed_spots(spec)
    if spots is None:
        if presenter in order:
            cells = layout.presenter(len(order), spec.size)
        else:
            cells = layout.grid(len(order), spec.size)
        return [(layout.Spot(c), key) for c, key in zip(cells, order, strict=True)]
    present = set(order)
    assigned: list[str | None] = []
    for key in (spec.layout_users or [])[: len(spots)]:
        # "" or an unknown id keeps the spot free; a user listed twice keeps the first spot
        assigned.append(key if key in present and key not in assigned else None)
    assigned += [None] * (len(spots) - len(assigned))
    if spec.layout != "custom":
        rest = iter(key for key in order if key not in assigned)
        assigned = [key if key is not None else next(rest, None) for key in assigned]
    return [(spot, key) for spot, key in zip(spots, assigned, strict=True) if key is not None]


def fit_of(spot: layout.Spot, key: str, presenter: str | None) -> str:
    """A spot's own fit; ``auto``: the presenter's screen share is contained, cameras cover."""
    if spot.fit != "auto":
        return spot.fit
    return "contain" if key == presenter else "cover"


def place_with_playbacks(
    spec: RoomSpec,
    order: list[str],
    presenter: str | None,
    playbacks: list[tuple[str, str | None]],
) -> list[tuple[layout.Spot, str]]:
    """:func:`place` with playbacks: ``playbacks`` are (play_id, replacement_id) of those
    with a picture, in start order. One whose ``replacement_id`` is in ``order`` takes that
    participant's spot (the participant is not shown; a second one replacing the same
    participant is placed on its own); the others are placed like participants after them
    (``layout_users`` may name their play_id). Keys out: participant ids and play_ids."""
    replaced: dict[str, str] = {}
    extra: list[str] = []
    for play_id, replacement in playbacks:
        if replacement is not None and replacement in order and replacement not in replaced:
            replaced[replacement] = play_id
        else:
            extra.append(play_id)
    placed = place(spec, order + extra, presenter)
    return [(spot, replaced.get(key, key)) for spot, key in placed]
