"""One meeting's mixer: its peers, the composite loop, the audio loop and a watchdog.

Compose + encode run in one worker thread per room (a single-thread executor, so frames are
encoded in order and the event loop never blocks on them), which also packetizes each frame
once per codec; the loop only hands the same packets to every peer's sender
(``rtp_sender.py``), and each layout change caps every participant's video at what its tile
needs (``bitrate.py``). The audio mix-minus runs inline every 20 ms (numpy on
960 samples); the tick's Opus encodes (one per talking peer plus one shared full mix for all
listeners, ``audio_encoder.py``) run in one call on the room's audio thread. A peer is
closed and reported (``peer_closed``) when its connection fails or closes, or when nothing
was heard from it for ``media_timeout`` seconds: no media and no pong on its data channel (a
peer without a data channel lives by its media alone).

Each audio tick also hands out the mixer's voice-activity changes: to every peer's data
channel (``{"type":"voice_activity","cid":…,"on":…}``) and to ``MediaEvents.voice_activity``.
A ``mute_video`` (``desktopstreaming``) a client sends on its data channel is applied like
``set_video_muted`` (``set_presenter``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from aiortc import RTCIceServer

from vidroom.media import layout, placement, playbacks
from vidroom.media.audio_encoder import AUDIO_RATE, AUDIO_SAMPLES, AudioEncoder
from vidroom.media.bitrate import limit_senders
from vidroom.media.compositor import Compositor, TileSource
from vidroom.media.contract import (
    Answer,
    LayerImage,
    MediaError,
    MediaEvents,
    Member,
    PeerSpec,
    PlaybackSpec,
    RoomSpec,
    RoomStats,
    Tile,
)
from vidroom.media.egress import RoomEgress
from vidroom.media.mixer import Mix, Mixer
from vidroom.media.overlay import Overlay
from vidroom.media.pacing import FrameMeter, paced
from vidroom.media.packetizer import EncodedFrame
from vidroom.media.peer import Peer, voice_message
from vidroom.media.playback import Playback
from vidroom.media.renditions import Renditions
from vidroom.media.spotlight import Spotlight

log = logging.getLogger(__name__)

MEDIA_TIMEOUT_S = 15.0
PING_INTERVAL_S = 5.0  # data-channel pings (eyeson-sepp.md §4: interval unknown, 5-10 s)
MAX_PEERS = 16
AUDIO_PERIOD_S = AUDIO_SAMPLES / AUDIO_RATE


def overlay_of(image: LayerImage, size: tuple[int, int]) -> Overlay:
    return Overlay(image.rgba, image.width, image.height, size)


class RoomMedia:
    def __init__(
        self,
        spec: RoomSpec,
        events: MediaEvents,
        *,
        ice_servers: list[RTCIceServer],
        media_timeout: float = MEDIA_TIMEOUT_S,
        max_peers: int = MAX_PEERS,
        ping_interval: float | None = None,
    ) -> None:
        self.spec = spec
        self.events = events
        self.ice_servers = ice_servers
        self.media_timeout = media_timeout
        self.max_peers = max_peers
        # three pings per timeout at least, so one lost pong does not kill a quiet peer
        self.ping_interval = ping_interval or min(PING_INTERVAL_S, media_timeout / 3)
        self.peers: dict[str, Peer] = {}
        self.presenter: str | None = None
        self.spotlight = Spotlight()
        self.layers: dict[int, LayerImage] = {}  # by z-index
        self.renditions = Renditions(spec.size, spec.fps)
        self.compositor = Compositor(spec.size, spec.background_color, spec.show_names)
        self.mixer = Mixer()
        self.playbacks = playbacks.RoomPlaybacks(self.mixer, self._playback_ended)
        self.audio_encoder = AudioEncoder()
        self._muted: set[str] = set()
        self.executor = ThreadPoolExecutor(1, thread_name_prefix=f"media-{spec.meeting_id}")
        # Opus encoding of every mix of a tick: its own thread, so a 5-10 ms video encode
        # never delays the 20 ms audio tick.
        self._audio_executor = ThreadPoolExecutor(1, thread_name_prefix=f"audio-{spec.meeting_id}")
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._closed = False
        self._next_spec: RoomSpec | None = None
        self._inflight: Future[dict[str, list[Any]]] | None = None  # a frame being encoded
        self._t0 = time.monotonic()
        self.egress = RoomEgress(  # recordings, broadcasts, snapshots (egress.py)
            spec.meeting_id,
            events,
            t0=self._t0,
            request_keyframe=lambda: self.renditions.request_keyframe("H264"),
            report=lambda call: self._spawn(self._report(call)),
        )
        self._last_pts = -1
        self.meter = FrameMeter()
        self._name = f"media room {spec.meeting_id}"
        self._dropped_gone = 0
        self._packets_gone = (0, 0)  # packets of the peers that left
        self._packets = (0, 0)  # the last count (:meth:`count_packets`)

    # -- lifecycle ---------------------------------------------------------------------

    def update(self, spec: RoomSpec) -> None:
        """Apply a new look (size, names, background, fps) from the next frame on; a new
        layout at once (and announced)."""
        if spec == self.spec:
            return
        if spec.look() != self.spec.look():
            self._next_spec = spec  # announced once applied
        else:
            self.spec = spec
            self._spawn(self._layout_changed())

    def _apply_spec(self) -> None:
        spec, self._next_spec = self._next_spec, None
        if spec is None:
            return
        self.renditions.resize(spec.size, spec.fps)
        self.compositor = Compositor(spec.size, spec.background_color, spec.show_names)
        for z, image in self.layers.items():
            self.compositor.set_layer(z, overlay_of(image, spec.size))
        self.spec = spec
        self._spawn(self._layout_changed())

    def start(self) -> None:
        if not self._loops:
            self._loops = [
                asyncio.create_task(self._video_loop()),
                asyncio.create_task(self._audio_loop()),
                asyncio.create_task(self._watchdog()),
            ]

    async def close(self) -> None:
        """Close every peer and stop the loops (idempotent; reports nothing)."""
        if self._closed:
            return
        self._closed = True
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        await self.playbacks.close()
        if self._inflight is not None and not self._inflight.done():
            await asyncio.wait([asyncio.wrap_future(self._inflight)])  # a frame being encoded
        peers = list(self.peers.values())
        self.peers.clear()
        await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.executor.shutdown(wait=True)
        self._audio_executor.shutdown(wait=True)
        self.renditions.close()

    # -- peers -------------------------------------------------------------------------

    async def join(self, spec: PeerSpec, offer_sdp: str) -> Answer:
        if self._closed:
            raise MediaError(404, "the meeting's media room is closed")
        if spec.participant_id in self.peers:
            raise MediaError(409, "participant already in a call; leave first")
        if len(self.peers) >= self.max_peers:
            raise MediaError(503, "the meeting's media room is full")
        peer = Peer(
            spec,
            ice_servers=self.ice_servers,
            request_keyframe=self._request_keyframe,
            audio_in=self.mixer.add(spec.participant_id),
            on_state=self._on_peer_state,
            on_signal=self._on_signal,
            on_channel_open=self._on_channel_open,
            ping_interval=self.ping_interval,
        )
        peer.video_muted = spec.participant_id in self._muted
        self.peers[spec.participant_id] = peer  # reserved: a concurrent join gets 409
        try:
            answer = await peer.accept(offer_sdp)
            if self.peers.get(spec.participant_id) is not peer:
                raise MediaError(404, "the call was closed while it was being set up")
        except BaseException as exc:
            gone = self.peers.get(spec.participant_id) is not peer
            if not gone:
                del self.peers[spec.participant_id]
                self.mixer.remove(spec.participant_id)
            await peer.close()
            if isinstance(exc, MediaError) or not isinstance(exc, Exception):
                raise
            if gone:
                raise MediaError(404, "the call was closed while it was being set up") from exc
            log.warning(
                "media room %s: could not answer an offer", self.spec.meeting_id, exc_info=True
            )
            raise MediaError(400, "could not answer the SDP offer") from exc
        self.renditions.request_keyframe(peer.video_codec)
        await self._layout_changed()
        return Answer(call_id=peer.call_id, sdp=answer)

    async def renegotiate(self, participant_id: str, offer_sdp: str) -> str:
        peer = self.peers.get(participant_id)
        if peer is None:
            raise MediaError(404, "participant not in a call")
        answer = await peer.renegotiate(offer_sdp)
        self._spawn(limit_senders([peer], self.tiles(), self.spec.fps))  # a new screen stream
        return answer

    async def leave(self, participant_id: str, reason: str | None = None) -> None:
        """Close a peer (idempotent). ``reason`` set: an unsolicited close, reported."""
        peer = self.peers.pop(participant_id, None)
        if peer is None:
            return
        source = self.mixer.remove(participant_id)
        if source is not None and source.voice.speaking:
            self._voice(peer, False)  # nobody is left believing they still speak
        self._dropped_gone += peer.video_out.dropped
        with contextlib.suppress(Exception):
            received, sent = await peer.packets()
            self._packets_gone = (self._packets_gone[0] + received, self._packets_gone[1] + sent)
        if self.presenter == participant_id:
            self.presenter = None
        await peer.close()
        if not self.peers and (self.egress.recorders or self.egress.broadcasts):
            await self.egress.end("empty")
        if reason is not None:
            await self._report(
                self.events.peer_closed(self.spec.meeting_id, participant_id, reason)
            )
        await self._layout_changed()

    def _request_keyframe(self, codec: str) -> None:
        self.renditions.request_keyframe(codec)

    def _on_peer_state(self, peer: Peer, state: str) -> None:
        if self.peers.get(peer.participant_id) is not peer:
            return
        if state == "connected":
            self.renditions.request_keyframe(peer.video_codec)
            self._spawn(
                self._report(self.events.peer_connected(self.spec.meeting_id, peer.participant_id))
            )
        elif state in ("failed", "closed"):
            self._spawn(self.leave(peer.participant_id, reason=f"connection {state}"))

    async def set_video_muted(self, participant_id: str, muted: bool) -> None:
        if muted:
            self._muted.add(participant_id)
        else:
            self._muted.discard(participant_id)
        peer = self.peers.get(participant_id)
        if peer is not None and peer.video_muted != muted:
            peer.video_muted = muted
            await self._layout_changed()

    async def set_layer(self, z: int, image: LayerImage | None) -> None:
        """Converted once (in the render thread, in order with the frames) and kept."""
        z = 1 if z > 0 else -1
        if image is None:
            self.layers.pop(z, None)
        else:
            self.layers[z] = image
        compositor, size = self.compositor, self.spec.size
        await asyncio.wrap_future(
            self.executor.submit(
                lambda: compositor.set_layer(z, overlay_of(image, size) if image else None)
            )
        )

    async def set_presenter(self, participant_id: str | None) -> None:
        if participant_id is not None and participant_id not in self.peers:
            raise MediaError(404, "participant not in a call")
        if self.presenter != participant_id:
            self.presenter = participant_id
            await self._layout_changed()

    async def start_playback(self, spec: PlaybackSpec) -> None:
        if self._closed:
            raise MediaError(404, "the meeting's media room is closed")
        if (await self.playbacks.start(spec)).has_video:
            await self._layout_changed()

    async def stop_playback(self, play_id: str) -> None:
        if (await self.playbacks.stop(play_id)).has_video:
            await self._layout_changed()

    def _playback_ended(self, play_id: str, error: str | None) -> None:
        self._spawn(self._report(self.events.playback_ended(self.spec.meeting_id, play_id, error)))
        self._spawn(self._layout_changed())

    # -- the data channel --------------------------------------------------------------

    def _on_signal(self, peer: Peer, kind: str, on: bool) -> None:
        """``mute_video`` or ``presenting`` (``desktopstreaming``) from a data channel."""
        if self.peers.get(peer.participant_id) is not peer:
            return
        if kind == "mute_video":
            self._spawn(self.set_video_muted(peer.participant_id, on))
        elif on or self.presenter == peer.participant_id:
            self._spawn(self.set_presenter(peer.participant_id if on else None))

    def _on_channel_open(self, peer: Peer) -> None:
        """A newly opened channel learns who is speaking now."""
        for key in self.mixer.speaking():
            speaker = self.peers.get(key)
            if speaker is not None:
                peer.send(voice_message(speaker.spec.client_id, True))

    def _voice(self, speaker: Peer, on: bool) -> None:
        message = voice_message(speaker.spec.client_id, on)
        for peer in self.peers.values():
            peer.send(message)
        self._spawn(
            self._report(
                self.events.voice_activity(self.spec.meeting_id, speaker.spec.client_id, on)
            )
        )

    # -- layout ------------------------------------------------------------------------

    def _ordered(self) -> list[Peer]:
        """Everyone in composite order: the presenter, then (voice activation) the speaker in
        the spotlight, then the rest in join order."""
        peers = list(self.peers.values())
        first = [self.presenter, self.spotlight.key if self.spec.voice_activation else None]
        peers.sort(key=lambda p: first.index(p.participant_id) if p.participant_id in first else 2)
        return peers

    def _placed(self) -> list[tuple[layout.Spot, Peer | Playback]]:
        """Who and what is where (``placement.place_with_playbacks``)."""
        order = [p.participant_id for p in self._ordered()]
        visible = self.playbacks.visible()
        placed = placement.place_with_playbacks(self.spec, order, self.presenter, visible)
        return [(s, self.peers.get(k) or self.playbacks.playing[k]) for s, k in placed]

    def _fit(self, spot: layout.Spot, peer: Peer) -> str:
        return placement.fit_of(spot, peer.participant_id, self.presenter)

    def members(self) -> list[Member]:
        return [
            Member(
                participant_id=p.participant_id,
                client_id=p.spec.client_id,
                display_name=p.spec.display_name,
                video_muted=p.video_muted,
                presenting=p.participant_id == self.presenter,
            )
            for p in self._in_order()
        ]

    def _in_order(self) -> list[Peer]:
        """The placed peers in spot order, then the others."""
        placed = [p for _, p in self._placed() if isinstance(p, Peer)]
        return placed + [p for p in self._ordered() if p not in placed]

    def tiles(self) -> list[Tile]:
        return [
            Tile(p.spec.client_id, s.rect.x, s.rect.y, s.rect.width, s.rect.height)
            if isinstance(p, Peer)
            else playbacks.tile_of(s, p)
            for s, p in self._placed()
        ]

    async def _layout_changed(self) -> None:
        if not self._closed:
            self._spawn(limit_senders(list(self.peers.values()), self.tiles(), self.spec.fps))
            await self._report(
                self.events.layout_changed(self.spec.meeting_id, self.members(), self.tiles())
            )

    # -- loops -------------------------------------------------------------------------

    async def _video_loop(self) -> None:
        await paced(lambda: 1 / self.spec.fps, self._video_tick, self._name)

    async def _video_tick(self) -> None:
        if self._next_spec is not None:
            self._apply_spec()
        peers = list(self.peers.values())
        if not peers:
            return
        placed = self._placed()
        cells = [spot.rect for spot, _ in placed]
        sources = [
            TileSource(p.spec.client_id, p.spec.display_name, p.picture(), self._fit(spot, p))
            if isinstance(p, Peer)
            else playbacks.source_of(spot, p)
            for spot, p in placed
        ]
        pts = max(self._last_pts + 1, int((time.monotonic() - self._t0) * 90000))
        self._last_pts = pts
        codecs = {peer.video_codec for peer in peers} | ({"H264"} if self.egress.active else set())
        self._inflight = self.executor.submit(self._render, cells, sources, pts, codecs)
        encoded = await asyncio.wrap_future(self._inflight)
        for peer in self.peers.values():
            for packet in encoded.get(peer.video_codec, ()):
                peer.video_out.push(packet)

    def _render(
        self, cells: list[layout.Rect], sources: list[TileSource], pts: int, codecs: set[str]
    ) -> dict[str, list[EncodedFrame]]:
        """Worker thread: compose one frame and encode it once per codec in use."""
        started = time.perf_counter()
        frame = self.compositor.compose(cells, sources)
        composed = time.perf_counter()
        h264: list[Any] = []
        packets = self.renditions.encode(frame, pts, codecs, h264)
        self.meter.frame(composed - started, time.perf_counter() - composed)
        self.egress.video(frame, h264)
        return packets

    async def _audio_loop(self) -> None:
        await paced(lambda: AUDIO_PERIOD_S, self._audio_tick, self._name)

    async def _audio_tick(self) -> None:
        if not self.peers:
            return
        mix = self.mixer.mix(list(self.peers))
        packets = await asyncio.wrap_future(self._audio_executor.submit(self._encode_audio, mix))
        for key, peer in self.peers.items():
            packet = packets.get(key)
            if packet is not None:
                peer.audio_out.push(packet)
        for key, on in self.mixer.voice_changes():
            speaker = self.peers.get(key)
            if speaker is not None:
                self._voice(speaker, on)
        if self.spec.voice_activation and self.spotlight.update(
            self.mixer.speaking(), set(self.peers), time.monotonic()
        ):
            await self._layout_changed()

    def _encode_audio(self, mix: Mix) -> dict[str, Any]:
        """Audio thread: the tick's Opus encodes, and the egress's AAC of the full mix."""
        self.egress.audio(mix.full)
        return self.audio_encoder.encode(mix.talking, mix.listeners, mix.full)

    async def _watchdog(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.media_timeout / 4))
            now = time.monotonic()
            for peer in list(self.peers.values()):
                if now - peer.last_heard > self.media_timeout:
                    self._spawn(self.leave(peer.participant_id, reason="no media"))

    # -- helpers -----------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> None:
        if self._closed:
            if asyncio.iscoroutine(coro):
                coro.close()
            return
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _report(self, call: Awaitable[None]) -> None:
        try:
            await call
        except Exception:
            log.exception("media room %s: event handler failed", self.spec.meeting_id)

    async def count_packets(self) -> tuple[int, int]:
        """RTP packets received and sent by this room so far, gone peers included."""
        received, sent = self._packets_gone
        for peer in list(self.peers.values()):
            with contextlib.suppress(Exception):
                r, s = await peer.packets()
                received, sent = received + r, sent + s
        self._packets = (received, sent)
        return self._packets

    def stats(self) -> RoomStats:
        return RoomStats(
            meeting_id=self.spec.meeting_id,
            peers=len(self.peers),
            composite_fps=self.meter.fps(),
            encode_ms=self.meter.encode_ms,
            dropped_frames=self._dropped_gone
            + sum(p.video_out.dropped for p in self.peers.values()),
            keyframes=self.renditions.keyframes,
            compose_ms=self.meter.compose_ms,
            keyframe_requests=self.renditions.requests,
            packets_in=self._packets[0],
            packets_out=self._packets[1],
            egress=self.egress.stats(),
        )
