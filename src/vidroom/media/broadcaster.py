"""A room's live broadcast: its encoded composite pushed to an RTMP(S) ingest as FLV.

The room's H.264 packets (Annex B, SPS/PPS in-band on keyframes) and its AAC frames are stream
copied into FFmpeg's ``flv`` muxer through PyAV; FFmpeg speaks RTMP (and RTMPS over its TLS
layer). Nothing is encoded here.

Threads: :meth:`video` / :meth:`audio` (the room's threads) only queue, bounded, never blocking;
the broadcaster's own thread connects, muxes and reconnects. ``on_state(state, reason)`` is
called from that thread on every change of :attr:`state`.

Connecting: PyAV opens an output's I/O with ``avio_open`` without options, so FFmpeg's
``rw_timeout``/``timeout`` cannot reach the RTMP/TCP layer. Each connection attempt therefore
runs in a short-lived thread of its own, and the broadcaster waits for it at most
``connect_timeout`` seconds (the outer deadline). An attempt that never returns (a server that
accepts and says nothing) is abandoned (a daemon thread, it ends when the peer closes) and its
container is never used. For the same reason ``rtmp_tcurl`` and FFmpeg's TLS verification
options cannot be set: with pinned addresses the IP goes in the URL (tcUrl carries the IP), and
RTMPS runs with FFmpeg's defaults (no certificate verification).

The initial connection is tried once: a URL that does not answer within ``connect_timeout``
ends the broadcast ``failed`` (a wrong URL is most likely a mistake, and the user should hear
of it at once). Once live, a dropped ingest is ``reconnecting``: attempts with exponential
backoff (``retry_initial`` doubling up to ``retry_max``), each counted in :attr:`reconnects`,
until one succeeds (``live`` again, from a keyframe) or ``give_up_after`` seconds have passed
without a connection (``failed``).

The stream key is a secret: logs name ``scheme://host:port/app`` only.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av

from vidroom.media.contract import BroadcastTarget
from vidroom.media.egress_types import (
    AUDIO_SAMPLE_RATE,
    VIDEO_CLOCK,
    AudioPacket,
    VideoPacket,
)

log = logging.getLogger(__name__)

VIDEO_TIME_BASE = Fraction(1, VIDEO_CLOCK)
AUDIO_TIME_BASE = Fraction(1, AUDIO_SAMPLE_RATE)
QUEUE_LIMIT = 300  # packets (~4 s of video and audio at 15 fps)

OnState = Callable[[str, "str | None"], None]


def redacted(url: str) -> str:
    """``scheme://host:port/app``: the URL without its stream key (for logs and reasons)."""
    parts = urlsplit(url)
    app = parts.path.strip("/").split("/", 1)[0]
    return f"{parts.scheme}://{parts.hostname}:{parts.port or ''}/{app}"


def pinned_url(url: str, addresses: list[str]) -> str:
    """``url`` with its host replaced by the first checked address (no second lookup)."""
    if not addresses:
        return url
    parts = urlsplit(url)
    address = addresses[0]
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class _Connection:
    """One FLV output over RTMP; opened (handshake, publish) by its first packet."""

    def __init__(self, url: str, first: VideoPacket) -> None:
        self.container: Any = av.open(url, "w", format="flv")
        self.video = self.container.add_mux_stream("h264", width=first.width, height=first.height)
        self.video.time_base = VIDEO_TIME_BASE
        # FLV declares its streams up front: audio always. Its AudioSpecificConfig comes from
        # an AAC encoder context set up like the room's (mono 48 kHz LC), opened by the muxer
        # and never fed (as the recorder does).
        self.audio: Any = self.container.add_stream("aac", rate=AUDIO_SAMPLE_RATE, layout="mono")
        self.audio.codec_context.bit_rate = 96_000
        self.audio.time_base = AUDIO_TIME_BASE
        self.origin = first.pts
        self.last_video = -1
        self.last_audio = -1
        self.write(first)  # connects and writes the header

    def write(self, packet: VideoPacket | AudioPacket) -> None:
        out = av.Packet(packet.data)
        if isinstance(packet, VideoPacket):
            pts = packet.pts - self.origin
            if pts <= self.last_video:
                return
            out.pts = out.dts = pts
            out.time_base = VIDEO_TIME_BASE
            out.is_keyframe = packet.keyframe
            out.stream = self.video
            self.last_video = pts
        else:
            if self.audio is None:
                return
            pts = packet.pts - self.origin * AUDIO_SAMPLE_RATE // VIDEO_CLOCK
            if pts < 0 or pts <= self.last_audio:
                return
            out.pts = out.dts = pts
            out.time_base = AUDIO_TIME_BASE
            out.stream = self.audio
            self.last_audio = pts
        self.container.mux(out)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the ingest is gone already
            self.container.close()


class Broadcaster:
    """Pushes a room's composite to one RTMP(S) ingest (an ``egress_types.Sink``)."""

    def __init__(self, target: BroadcastTarget, on_state: OnState) -> None:
        self.target = target
        self._on_state = on_state
        self._url = pinned_url(target.url, target.addresses)
        self._name = redacted(target.url)
        self.state = "connecting"
        self.reason: str | None = None
        self.reconnects = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._queue: collections.deque[VideoPacket | AudioPacket] = collections.deque()
        self._waiting = True  # for a keyframe to (re)start from
        self._connected = False
        self._stopped = False
        self._audio_extradata: bytes | None = None
        self._thread = threading.Thread(target=self._run, name="broadcaster", daemon=True)

    # -- the room's threads --------------------------------------------------------------

    @property
    def wants_keyframe(self) -> bool:
        return self._waiting and not self._stopped

    def video(self, packet: VideoPacket) -> None:
        with self._lock:
            if self._stopped:
                return
            if self._waiting or len(self._queue) >= QUEUE_LIMIT:
                if not packet.keyframe:
                    self.dropped += 1
                    self._waiting = True
                    return
                if len(self._queue) >= QUEUE_LIMIT or not self._connected:
                    self.dropped += len(self._queue)
                    self._queue.clear()  # a keyframe starts afresh
                self._waiting = False
            self._queue.append(packet)
            self._wake.notify()

    def audio(self, packet: AudioPacket) -> None:
        with self._lock:
            if self._stopped or self._waiting:
                return
            self._audio_extradata = packet.extradata
            if len(self._queue) >= QUEUE_LIMIT:
                self.dropped += 1
                return
            self._queue.append(packet)
            self._wake.notify()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the stream (blocking up to a few seconds; idempotent)."""
        with self._lock:
            already = self._stopped
            self._stopped = True
            self._wake.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5.0)
        if not already and self.state not in ("failed", "stopped"):
            self._set("stopped", None)

    # -- the broadcaster's thread -----------------------------------------------------------

    def _set(self, state: str, reason: str | None) -> None:
        if state == self.state and reason == self.reason:
            return
        self.state, self.reason = state, reason
        log.info(
            "broadcast %s to %s: %s %s", self.target.broadcast_id, self._name, state, reason or ""
        )
        try:
            self._on_state(state, reason)
        except Exception:
            log.exception("broadcast state report failed")

    def _next_keyframe(self, deadline: float | None) -> VideoPacket | None:
        """The next keyframe from the queue (waiting for it); None when stopped or late."""
        with self._lock:
            while not self._stopped:
                while self._queue:
                    item = self._queue.popleft()
                    if isinstance(item, VideoPacket) and item.keyframe:
                        return item
                self._waiting = True
                timeout = None if deadline is None else deadline - time.monotonic()
                if timeout is not None and timeout <= 0:
                    return None
                self._wake.wait(timeout=min(timeout, 0.5) if timeout else 0.5)
        return None

    def _connect(self, first: VideoPacket) -> _Connection | str:
        """One attempt within ``connect_timeout``: the connection, or why it failed."""
        result: list[_Connection | str] = []
        done = threading.Event()

        def attempt() -> None:
            try:
                conn = _Connection(self._url, first)
            except Exception as exc:
                result.append(f"cannot connect to {self._name}: {_describe(exc)}")
            else:
                result.append(conn)
                if abandoned.is_set():
                    conn.close()
            done.set()

        abandoned = threading.Event()
        threading.Thread(target=attempt, name="broadcast-connect", daemon=True).start()
        end = time.monotonic() + self.target.connect_timeout
        while not done.wait(timeout=0.1):
            if self._stopped or time.monotonic() >= end:
                abandoned.set()
                if done.is_set() and result and isinstance(result[0], _Connection):
                    result[0].close()
                return f"no answer from {self._name} within {self.target.connect_timeout:g} s"
        return result[0]

    def _run(self) -> None:
        conn: _Connection | None = None
        down_since: float | None = None
        backoff = self.target.retry_initial
        try:
            while not self._stopped:
                if conn is None:
                    first = self._next_keyframe(None)
                    if first is None:
                        break
                    got = self._connect(first)
                    if self.stopped:
                        if isinstance(got, _Connection):
                            got.close()
                        break
                    if isinstance(got, str):
                        if down_since is None:  # the first connection: no retry
                            self._set("failed", got)
                            return
                        if time.monotonic() - down_since >= self.target.give_up_after:
                            self._set("failed", got)
                            return
                        self._pause(backoff)
                        backoff = min(backoff * 2, self.target.retry_max)
                        self.reconnects += 1
                        continue
                    conn, down_since, backoff = got, None, self.target.retry_initial
                    with self._lock:
                        self._connected = True
                    self._set("live", None)
                    continue
                item = self._pop()
                if item is None:
                    continue
                try:
                    conn.write(item)
                except Exception as exc:
                    conn.close()
                    conn = None
                    down_since = time.monotonic()
                    with self._lock:
                        self._connected = False
                        self._waiting = True
                        self._queue.clear()
                    self._set("reconnecting", f"ingest dropped: {_describe(exc)}")
                    self.reconnects += 1
        finally:
            if conn is not None:
                conn.close()

    def _pause(self, seconds: float) -> None:
        with self._lock:
            end = time.monotonic() + seconds
            while not self._stopped and time.monotonic() < end:
                self._wake.wait(timeout=end - time.monotonic())

    def _pop(self) -> VideoPacket | AudioPacket | None:
        with self._lock:
            if not self._queue and not self._stopped:
                self._wake.wait(timeout=0.5)
            return self._queue.popleft() if self._queue else None


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__
