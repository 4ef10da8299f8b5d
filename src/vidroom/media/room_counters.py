"""A room's running totals for ``RoomStats``: RTP packets in and out and frames dropped in
the peers' queues, the peers that left included."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from vidroom.media.peer import Peer


class RoomCounters:
    def __init__(self) -> None:
        self.dropped_gone = 0
        self.packets_gone = (0, 0)  # packets of the peers that left
        self.packets = (0, 0)  # the last count (:meth:`count`)

    async def left(self, peer: Peer) -> None:
        """Keep what a leaving peer counted."""
        self.dropped_gone += peer.video_out.dropped
        with contextlib.suppress(Exception):
            received, sent = await peer.packets()
            self.packets_gone = (self.packets_gone[0] + received, self.packets_gone[1] + sent)

    async def count(self, peers: Iterable[Peer]) -> tuple[int, int]:
        """RTP packets received and sent so far, gone peers included."""
        received, sent = self.packets_gone
        for peer in list(peers):
            with contextlib.suppress(Exception):
                r, s = await peer.packets()
                received, sent = received + r, sent + s
        self.packets = (received, sent)
        return self.packets

    def dropped(self, peers: Iterable[Peer]) -> int:
        return self.dropped_gone + sum(p.video_out.dropped for p in peers)
