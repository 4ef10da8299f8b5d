"""vidroom's media server alone (no control plane, no database) for benchmarks/media.py.

    python benchmarks/media_server.py --port PORT [--mode shared|per-peer] [--widescreen]
                                      [--workers K] [--record DIR] [--broadcast RTMP_URL]

With ``--workers 0`` (the default) a ``MediaSupervisor`` inside this process, inside
``loopback_ice()``; with ``--workers K`` a ``WorkerPool`` of K media worker processes (offering
127.0.0.1 only), as ``vidroom serve`` runs them. Behind a tiny Starlette app on 127.0.0.1:
``POST /offer`` {client_id, name, sdp, room?} → {sdp} (join; room "bench" unless given),
``GET /tiles?room=`` (the room's last layout), ``GET /stats`` (every room), ``GET /health``.

``--record DIR`` records every room (a fragmented MP4 in DIR) and ``--broadcast URL`` pushes
every room to an RTMP ingest, both started when the room opens (benchmarks/egress.py).

``--mode per-peer`` swaps in :class:`PerPeerRoom`, defined here only for the comparison: the
room composes once but encodes the composite once *per participant* (one ``SharedEncoder``
each, same settings), spread over one worker thread per core. That is what a per-subscriber
MCU costs with vidroom's encoder; plain aiortc per-subscriber encoding (REMB-driven bitrates)
is not reproduced. A keyframe request from anyone forces a keyframe on every encoder (the
room gives no hint which peer asked).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import av
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vidroom.media import layout
from vidroom.media.compositor import TileSource
from vidroom.media.contract import (
    BroadcastTarget,
    MediaControl,
    MediaError,
    MediaEvents,
    Member,
    PeerSpec,
    RecordingResult,
    RecordingTarget,
    RoomSpec,
    Tile,
)
from vidroom.media.encoder import SharedEncoder
from vidroom.media.pool import WorkerPool
from vidroom.media.room import RoomMedia
from vidroom.media.supervisor import MediaSupervisor
from vidroom.media.testing import loopback_ice

ROOM = "bench"


class Events:
    """No control plane: remember the last layout, ignore the rest."""

    def __init__(self) -> None:
        self.tiles: dict[str, list[Tile]] = {}
        self.broadcasts: dict[str, str] = {}  # each broadcast's states, in order (a>b>c)

    async def peer_connected(self, meeting_id: str, participant_id: str) -> None:
        return None

    async def peer_closed(self, meeting_id: str, participant_id: str, reason: str) -> None:
        return None

    async def layout_changed(
        self, meeting_id: str, members: list[Member], tiles: list[Tile]
    ) -> None:
        self.tiles[meeting_id] = tiles

    async def voice_activity(self, meeting_id: str, client_id: str, on: bool) -> None:
        return None

    async def room_lost(self, meeting_id: str, participant_ids: list[str]) -> None:
        return None

    async def recording_ended(self, meeting_id: str, result: RecordingResult, reason: str) -> None:
        return None

    async def broadcast_state(
        self, meeting_id: str, broadcast_id: str, state: str, reason: str | None
    ) -> None:
        seen = self.broadcasts.get(broadcast_id)
        self.broadcasts[broadcast_id] = f"{seen}>{state}" if seen else state

    async def playback_ended(self, meeting_id: str, play_id: str, error: str | None) -> None:
        return None


class PerPeerRoom(RoomMedia):
    """Compose once, encode once per participant (the encode-once room's alternative)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encoders: dict[str, SharedEncoder] = {}
        self.workers = os.cpu_count() or 2
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="per-peer-encode")
        self._pts = -1

    def _request_keyframe(self, codec: str) -> None:
        for encoder in list(self.encoders.values()):
            encoder.request_keyframe()

    async def _video_tick(self) -> None:
        peers = self.stage.ordered()
        if not peers:
            return
        for peer in peers:
            if peer.participant_id not in self.encoders:
                self.encoders[peer.participant_id] = SharedEncoder(self.spec.size, self.spec.fps)
        for gone in set(self.encoders) - {p.participant_id for p in peers}:
            self.encoders.pop(gone).close()
        placed = self.stage.placed()
        cells = [spot.rect for spot, _ in placed]
        sources = self.stage.sources(placed)
        pts = max(self._pts + 1, int((time.monotonic() - self._t0) * 90000))
        self._pts = pts
        encoders = [(p.participant_id, self.encoders[p.participant_id]) for p in peers]
        out = await self.picture.run(self._render_each, cells, sources, pts, encoders)
        for participant_id, packets in out.items():
            receiver = self.peers.get(participant_id)
            if receiver is not None:
                for packet in packets:
                    receiver.video_out.push(packet)

    def _render_each(
        self,
        cells: list[layout.Rect],
        sources: list[TileSource],
        pts: int,
        encoders: list[tuple[str, SharedEncoder]],
    ) -> dict[str, list[av.Packet[Any]]]:
        started = time.perf_counter()
        frame = self.picture.compositor.compose(cells, sources)
        composed = time.perf_counter()
        count = min(len(encoders), self.workers)
        chunks = [encoders[i::count] for i in range(count)]
        # one picture per worker thread: the encoder stamps pts/pict_type on it
        pictures = [frame] + [
            av.VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
            for _ in range(count - 1)
        ]

        def encode(
            chunk: list[tuple[str, SharedEncoder]], picture: av.VideoFrame
        ) -> dict[str, Any]:
            return {key: encoder.encode(picture, pts) for key, encoder in chunk}

        out: dict[str, list[av.Packet[Any]]] = {}
        for part in self._pool.map(encode, chunks, pictures):
            out.update(part)
        # all encodes, wall
        self.picture.meter.frame(composed - started, time.perf_counter() - composed)
        return out

    async def close(self) -> None:
        await super().close()
        self._pool.shutdown(wait=True)
        for encoder in self.encoders.values():
            encoder.close()


class Supervisor(MediaSupervisor):
    def __init__(self, events: MediaEvents, room_class: type[RoomMedia]) -> None:
        super().__init__(events, ice_servers=())
        self.room_class = room_class

    async def open_room(self, spec: RoomSpec) -> None:
        if spec.meeting_id in self.rooms:
            return
        room = self.room_class(
            spec,
            self.events,
            ice_servers=self.ice_servers,
            media_timeout=self.media_timeout,
            max_peers=self.max_peers,
        )
        self.rooms[spec.meeting_id] = room
        room.start()


def build(
    media: MediaControl, events: Events, spec: RoomSpec, args: argparse.Namespace
) -> Starlette:
    egress: set[str] = set()

    async def start_egress(room: str) -> None:
        if room in egress:
            return
        egress.add(room)
        if args.record:
            path = os.path.join(args.record, f"{room}.mp4")
            await media.start_recording(room, RecordingTarget(f"rec-{room}", path))
        if args.broadcast:
            target = BroadcastTarget(f"bc-{room}", f"{args.broadcast}/{room}")
            await media.start_broadcast(room, target)

    async def offer(request: Request) -> JSONResponse:
        body = await request.json()
        peer = PeerSpec(body["client_id"], body["client_id"], body["name"])
        room = str(body.get("room") or ROOM)
        try:
            await media.open_room(dataclasses.replace(spec, meeting_id=room))
            answer = await media.join(room, peer, body["sdp"])
            await start_egress(room)
        except MediaError as exc:
            return JSONResponse({"error": exc.reason}, status_code=exc.code)
        return JSONResponse({"sdp": answer.sdp})

    async def tiles(request: Request) -> JSONResponse:
        room = request.query_params.get("room") or ROOM
        return JSONResponse([dataclasses.asdict(t) for t in events.tiles.get(room, [])])

    async def stats(request: Request) -> JSONResponse:
        if isinstance(media, WorkerPool):
            current = await media.current_stats()
        else:
            current = media.stats()
        return JSONResponse(
            {
                "rooms": [dataclasses.asdict(r) for r in current.rooms],
                "workers": [dataclasses.asdict(w) for w in current.workers],
                "broadcasts": events.broadcasts,
            }
        )

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/offer", offer, methods=["POST"]),
            Route("/tiles", tiles),
            Route("/stats", stats),
            Route("/health", health),
        ]
    )


async def serve(args: argparse.Namespace) -> None:
    events = Events()
    spec = RoomSpec(meeting_id=ROOM, widescreen=args.widescreen)
    media: Supervisor | WorkerPool
    if args.workers:
        if args.mode != "shared":
            raise SystemExit("media workers run vidroom's own (encode-once) rooms only")
        media = WorkerPool(events, size=args.workers, host_addresses=["127.0.0.1"])
        await media.start()
    else:
        room_class = PerPeerRoom if args.mode == "per-peer" else RoomMedia
        media = Supervisor(events, room_class)
    config = uvicorn.Config(
        build(media, events, spec, args),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        lifespan="off",
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await media.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["shared", "per-peer"], default="shared")
    parser.add_argument("--widescreen", action="store_true")
    parser.add_argument("--workers", type=int, default=0, help="media worker processes (0: none)")
    parser.add_argument("--record", default="", help="record every room into this folder")
    parser.add_argument("--broadcast", default="", help="push every room to this RTMP URL")
    args = parser.parse_args()
    with loopback_ice():
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
