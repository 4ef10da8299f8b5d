"""One connection of a live broadcast: an ``ffmpeg`` child pushing FLV to an RTMP(S) ingest.

PyAV muxes the room's packets into the child's stdin (stream copy, nothing encoded); the child
stream copies that FLV to the ingest. See :mod:`vidroom.media.broadcaster` for why a child.
"""

from __future__ import annotations

import collections
import contextlib
import re
import shutil
import subprocess
import threading
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

VIDEO_TIME_BASE = Fraction(1, VIDEO_CLOCK)
AUDIO_TIME_BASE = Fraction(1, AUDIO_SAMPLE_RATE)
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
# FFmpeg's summary lines after the real error
GENERIC = ("Conversion failed", "Error muxing", "Error writing trailer", "Error closing file")
# the ``[tls @ 0x55d…] `` a component's message starts with
_PREFIX = re.compile(r"^\[[\w:/ -]+ @ 0x[0-9a-f]+\] ")


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


def ffmpeg_command(target: BroadcastTarget, url: str) -> list[str]:
    """The ``ffmpeg`` child's arguments: FLV from stdin, stream copied to ``url`` (pinned).

    ``rw_timeout`` (µs) bounds every read and write of the RTMP connection (FFmpeg copies it
    to the TCP / TLS layers below), so a stalled ingest ends the child. RTMPS verifies the
    ingest's certificate against the system's trust store or ``target.ca_file``, for the URL's own
    host name even when the connection goes to a pinned address; ``rtmp_tcurl`` keeps the
    host name in the tcUrl the ingest sees."""
    parts = urlsplit(target.url)
    command = [
        FFMPEG, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info",
        "-analyzeduration", "200000", "-f", "flv", "-i", "pipe:0",
        "-map", "0", "-c", "copy", "-f", "flv", "-flvflags", "no_duration_filesize",
        "-rw_timeout", str(int(target.connect_timeout * 1_000_000)),
    ]  # fmt: skip
    if url != target.url:
        command += ["-rtmp_tcurl", redacted(target.url)]
    if parts.scheme == "rtmps":
        command += ["-tls_verify", "1", "-verifyhost", parts.hostname or ""]
        if target.ca_file:
            command += ["-ca_file", target.ca_file]
    return [*command, url]


class Scrub:
    """Removes a URL's stream key from FFmpeg's messages."""

    def __init__(self, *urls: str) -> None:
        self._secrets = sorted({s for u in urls for s in (u, urlsplit(u).path) if s.strip("/")})
        self._secrets.sort(key=len, reverse=True)
        self._name = redacted(urls[0])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, self._name if "://" in secret else "/***")
        return text


class Connection:
    """One FLV stream to the ingest: an ``ffmpeg`` child pushes what PyAV muxes into its stdin.

    ``opened`` is set once FFmpeg has connected, published and written its header (its
    ``Output #0`` line); ``failure()`` says why the child ended (its last error line, the
    stream key removed), or that it did not open within the connect timeout (then it is
    killed by a timer of its own, so no write on a full pipe can block past the deadline)."""

    def __init__(self, command: list[str], first: VideoPacket, timeout: float, scrub: Scrub):
        self.opened = threading.Event()
        self.expired = False
        self._scrub = scrub
        self._errors: collections.deque[str] = collections.deque(maxlen=4)
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self._reader = threading.Thread(target=self._read, name="broadcast-ffmpeg", daemon=True)
        self._reader.start()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()
        self.timeout = timeout
        try:
            self.container: Any = av.open(
                self.process.stdin, "w", format="flv", container_options={"flush_packets": "1"}
            )
            self.video = self.container.add_mux_stream(
                "h264", width=first.width, height=first.height
            )
            self.video.time_base = VIDEO_TIME_BASE
            # FLV declares its streams up front: audio always. Its AudioSpecificConfig comes
            # from an AAC encoder context set up like the room's (mono 48 kHz LC), opened by
            # the muxer and never fed (as the recorder does).
            self.audio: Any = self.container.add_stream(
                "aac", rate=AUDIO_SAMPLE_RATE, layout="mono"
            )
            self.audio.codec_context.bit_rate = 96_000
            self.audio.time_base = AUDIO_TIME_BASE
            self.origin = first.pts
            self.last_video = -1
            self.last_audio = -1
            self.write(first)  # writes the FLV header into the pipe
        except BaseException:
            self.close()
            raise

    def _read(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode(errors="replace").strip()
            if line.startswith("Output #0"):
                self.opened.set()
            elif line and not line.startswith(("Input #", "Stream", "Metadata", "Duration")):
                self._errors.append(line)

    def _expire(self) -> None:
        if not self.opened.is_set():
            self.expired = True
            self.kill()

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()

    @property
    def ended(self) -> bool:
        return self.process.poll() is not None

    def failure(self, exc: BaseException | None = None) -> str:
        """Why the stream ended (call once the child is gone or a write failed)."""
        if self.expired:
            return f"no answer within {self.timeout:g} s"
        self.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=2)
        self._reader.join(timeout=1)
        lines = [line for line in self._errors if not line.startswith(GENERIC)]
        # a component's own message (``[tls @ 0x…] …``) says more than the summary after it
        detail = next((line for line in lines if _PREFIX.match(line)), lines[-1] if lines else "")
        if detail:
            return self._scrub(_PREFIX.sub("", detail))
        return describe(exc) if exc is not None else f"ffmpeg exited ({self.process.returncode})"

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
            pts = packet.pts - self.origin * AUDIO_SAMPLE_RATE // VIDEO_CLOCK
            if pts < 0 or pts <= self.last_audio:
                return
            out.pts = out.dts = pts
            out.time_base = AUDIO_TIME_BASE
            out.stream = self.audio
            self.last_audio = pts
        self.container.mux(out)

    def close(self) -> None:
        """End the stream: the muxer's trailer, then the child (killed if it lingers)."""
        self._timer.cancel()
        with contextlib.suppress(Exception):  # the child may be gone already
            if hasattr(self, "container"):
                self.container.close()
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            self.process.wait()
        self._reader.join(timeout=1)
        assert self.process.stderr is not None
        self.process.stderr.close()


def describe(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__
