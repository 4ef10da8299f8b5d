"""A room's live broadcast: its encoded composite pushed to an RTMP(S) ingest as FLV.

The room's H.264 packets (Annex B, SPS/PPS in-band on keyframes) and its AAC frames are stream
copied into FFmpeg's ``flv`` muxer through PyAV, which writes into the stdin of an ``ffmpeg``
child process; the child stream copies that FLV to the ingest (RTMP, or RTMPS over its TLS
layer). Nothing is encoded here.

Why a child: PyAV opens an output URL with ``avio_open`` while holding the GIL, with no
options and no interrupt callback. An ingest that accepts TCP and never answers the RTMP
handshake blocked that call for ever, and with it every Python thread of the media worker
(every room). The ``ffmpeg`` CLI takes protocol options: ``rw_timeout`` bounds each read and
write of the connection (a silent or stalled ingest ends the child), TLS certificates are
verified (``tls_verify``, ``verifyhost``, ``ca_file``) and ``rtmp_tcurl`` keeps the host name
when the connection goes to a pinned address. The worker only writes to a pipe; a timer kills
a child that has not connected within ``connect_timeout``, which also unblocks a write on a
full pipe.

Threads: :meth:`video` / :meth:`audio` (the room's threads) only queue, bounded, never blocking;
the broadcaster's own thread muxes into the pipe and reconnects. ``on_state(state, reason)`` is
called from that thread on every change of :attr:`state`.

The initial connection is tried once: a URL that does not answer within ``connect_timeout``
ends the broadcast ``failed`` (a wrong URL is most likely a mistake, and the user should hear
of it at once). Once live, a dropped ingest is ``reconnecting``: attempts with exponential
backoff (``retry_initial`` doubling up to ``retry_max``), each counted in :attr:`reconnects`,
until one succeeds (``live`` again, from a keyframe) or ``give_up_after`` seconds have passed
without a connection (``failed``).

The stream key is a secret: logs and reasons name ``scheme://host:port/app`` only (FFmpeg's
messages are scrubbed of the URL and its path).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable

from vidroom.media.broadcast_push import (
    Connection,
    Scrub,
    describe,
    ffmpeg_command,
    pinned_url,
    redacted,
)
from vidroom.media.contract import BroadcastTarget
from vidroom.media.egress_types import AudioPacket, VideoPacket

__all__ = ["Broadcaster", "pinned_url", "redacted"]

log = logging.getLogger(__name__)

QUEUE_LIMIT = 300  # packets (~4 s of video and audio at 15 fps)
OnState = Callable[[str, "str | None"], None]


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
        self._conn: Connection | None = None
        self._scrub = Scrub(target.url, self._url)
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
            conn = self._conn
        if conn is not None and not conn.opened.is_set():
            conn.kill()  # still connecting: nothing to finish
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=3.0)
            if self._thread.is_alive() and conn is not None:
                conn.kill()  # a write blocked on a stalled ingest
                self._thread.join(timeout=2.0)
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

    def _connect(self, first: VideoPacket) -> Connection | str:
        """Start one attempt (the child connects while packets flow): it, or why not."""
        try:
            conn = Connection(
                ffmpeg_command(self.target, self._url),
                first,
                self.target.connect_timeout,
                self._scrub,
            )
        except Exception as exc:  # no ffmpeg, or its pipe closed at once
            return f"cannot connect to {self._name}: {describe(exc)}"
        with self._lock:
            self._conn = conn
            self._connected = True
        return conn

    def _drop(self, conn: Connection, exc: BaseException | None) -> str:
        """Close a connection that failed; its reason (for the state report)."""
        reason = conn.failure(exc)
        conn.close()
        with self._lock:
            self._conn = None
            self._connected = False
            self._waiting = True
            self._queue.clear()
        return reason

    def _run(self) -> None:
        conn: Connection | None = None
        live = False
        down_since: float | None = None  # the ingest was lost at (None: never live yet)
        backoff = self.target.retry_initial
        try:
            while not self._stopped:
                failure: str | None = None
                if conn is None:
                    first = self._next_keyframe(None)
                    if first is None:
                        break
                    got = self._connect(first)
                    if isinstance(got, str):
                        failure = got
                    else:
                        conn, live = got, False
                        continue
                else:
                    if not live and conn.opened.is_set():
                        live, down_since, backoff = True, None, self.target.retry_initial
                        self._set("live", None)
                    item = self._pop()
                    error: BaseException | None = None
                    try:
                        if item is not None:
                            conn.write(item)
                    except Exception as exc:
                        error = exc
                    if error is None and not conn.ended:
                        continue
                    if self.stopped:
                        break
                    failure = self._drop(conn, error)
                    conn = None
                    if live:  # was live: retry
                        live, down_since = False, time.monotonic()
                        self.reconnects += 1
                        self._set("reconnecting", f"ingest dropped: {failure}")
                        self._pause(backoff)
                        continue
                if self.stopped:
                    break
                reason = (
                    f"cannot connect to {self._name}: {failure.removeprefix(self._name + ': ')}"
                )
                if down_since is None or time.monotonic() - down_since >= self.target.give_up_after:
                    self._set("failed", reason)  # the first connection is not retried
                    return
                if self.state != "reconnecting":
                    self._set("reconnecting", reason)
                self._pause(backoff)
                backoff = min(backoff * 2, self.target.retry_max)
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
