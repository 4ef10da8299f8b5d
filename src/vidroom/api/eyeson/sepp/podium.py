"""``memberlist`` and ``source_update`` (eyeson-sepp.md §3.2, §7) from the media server's
members and tiles."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vidroom.media.contract import Member, Tile


def memberlist(
    call_id: str, *, add: Iterable[tuple[str, str]], delete: Iterable[str], count: int
) -> dict[str, Any]:
    """``add``: (client id, platform) pairs; ``delete``: client ids."""
    return {
        "call_id": call_id,
        "add": [{"cid": cid, "p": platform} for cid, platform in add],
        "del": list(delete),
        "count": count,
        "media": [],
    }


def source_update(
    call_id: str, members: list[Member], tiles: list[Tile], *, show_names: bool
) -> dict[str, Any]:
    """``src`` = members' client ids in composite order, everybody audible; one box per tile,
    ``vsrc`` naming its member (``-1`` when empty or the member's camera is off); ``dims`` in
    composite pixels."""
    src = [m.client_id for m in members]
    index = {cid: i for i, cid in enumerate(src)}
    muted = {m.client_id for m in members if m.video_muted}
    vsrc = [-1 if t.client_id in muted else index.get(t.client_id, -1) for t in tiles]
    presenter = next((index[m.client_id] for m in members if m.presenting), -1)
    return {
        "call_id": call_id,
        "src": src,
        "asrc": list(range(len(src))),
        "vsrc": vsrc,
        "dims": [{"x": t.x, "y": t.y, "w": t.width, "h": t.height} for t in tiles],
        "l": len(tiles),
        "psrc": presenter,
        "dsrc": presenter,
        "bcast": False,
        "tovl": show_names,
    }
