"""The Broadcaster against a real nginx-rtmp (tests/rtmp.py), fed by the room's real H.264
encoder (SharedEncoder) and AAC encoder; what nginx received is read back with PyAV."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from tests.rtmp import RtmpServer, free_port
from vidroom.media.broadcast_push import Scrub, ffmpeg_command, pinned_url
from vidroom.media.broadcaster import Broadcaster, redacted
from vidroom.media.contract import BroadcastTarget
from vidroom.media.egress import AacEncoder
from vidroom.media.egress_types import VideoPacket
from vidroom.media.encoder import SharedEncoder

FPS = 15
STEP = 90000 // FPS
TICK = 960
LEFT, RIGHT = (220, 30, 30), (30, 30, 220)


class Feed:
    """A room clock in real time: a picture of two colour halves and a tone."""

    def __init__(self, sink: Broadcaster, size: tuple[int, int] = (320, 240)) -> None:
        self.sink = sink
        self.encoder = SharedEncoder(size, FPS, min_keyframe_interval=0)
        self.aac = AacEncoder(0)
        self.frame = 0
        self.samples = 0
        width, height = size
        picture = np.empty((height, width, 3), np.uint8)
        picture[:, : width // 2] = LEFT
        picture[:, width // 2 :] = RIGHT
        self.picture = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(
            format="yuv420p"
        )

    def run(self, seconds: float) -> None:
        start = time.monotonic()
        for _ in range(round(seconds * FPS)):
            if self.sink.wants_keyframe:
                self.encoder.request_keyframe()
            pts = self.frame * STEP
            width, height = self.encoder.size
            for packet in self.encoder.encode(self.picture, pts):
                self.sink.video(VideoPacket(bytes(packet), pts, packet.is_keyframe, width, height))
            self.frame += 1
            until = self.frame * STEP * 48000 // 90000
            while self.samples < until:
                t = np.arange(self.samples, self.samples + TICK) / 48000
                tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
                for sound in self.aac.encode(tone, self.samples):
                    self.sink.audio(sound)
                self.samples += TICK
            time.sleep(max(0.0, start + self.frame / FPS - time.monotonic()))


class States:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        self.changed = threading.Event()

    def __call__(self, state: str, reason: str | None) -> None:
        self.seen.append((state, reason))
        self.changed.set()

    def names(self) -> list[str]:
        return [state for state, _ in self.seen]

    def wait_for(self, state: str, timeout: float) -> float:
        start = time.monotonic()
        while state not in self.names():
            assert time.monotonic() - start < timeout, f"no {state}: {self.seen}"
            time.sleep(0.02)
        return time.monotonic() - start


def read_back(path: Path) -> tuple[list[np.ndarray], int]:
    """Decoded pictures (rgb) and the number of audio frames in a recorded FLV."""
    pictures: list[np.ndarray] = []
    audio = 0
    with av.open(str(path)) as container:
        for packet in container.demux():
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    pictures.append(frame.to_ndarray(format="rgb24"))
                else:
                    audio += 1
    return pictures, audio


def assert_halves(picture: np.ndarray) -> None:
    height, width, _ = picture.shape
    left = picture[height // 4 : 3 * height // 4, width // 8 : 3 * width // 8].mean(axis=(0, 1))
    right = picture[height // 4 : 3 * height // 4, 5 * width // 8 : 7 * width // 8].mean(
        axis=(0, 1)
    )
    assert np.abs(left - LEFT).max() < 25, left
    assert np.abs(right - RIGHT).max() < 25, right


@pytest.fixture
def rtmp(tmp_path: Path) -> Iterator[RtmpServer]:
    with RtmpServer(tmp_path / "nginx") as server:
        yield server


def test_push_and_read_back(rtmp: RtmpServer) -> None:
    states = States()
    target = BroadcastTarget(broadcast_id="b1", url=rtmp.url("secret"), connect_timeout=5)
    broadcaster = Broadcaster(target, states)
    broadcaster.start()
    feed = Feed(broadcaster)
    feed.run(5.0)
    assert broadcaster.state == "live"
    broadcaster.stop()
    assert states.names() == ["live", "stopped"]
    broadcaster.stop()  # idempotent
    pictures, audio = read_back(rtmp.recorded("secret"))
    assert len(pictures) >= 4 * FPS
    assert pictures[0].shape == (240, 320, 3)
    for picture in (pictures[0], pictures[len(pictures) // 2], pictures[-1]):
        assert_halves(picture)
    assert audio >= 4 * 48000 // 1024


def test_ingest_restart_reconnects(rtmp: RtmpServer) -> None:
    states = States()
    target = BroadcastTarget(
        broadcast_id="b1", url=rtmp.url("k"), connect_timeout=3, retry_initial=0.3, retry_max=1
    )
    broadcaster = Broadcaster(target, states)
    broadcaster.start()
    feed = Feed(broadcaster)
    feed.run(2.0)
    rtmp.stop()
    feed.run(1.5)
    assert "reconnecting" in states.names()
    rtmp.start()
    feed.run(3.0)
    broadcaster.stop()
    names = states.names()
    assert names[:3] == ["live", "reconnecting", "live"], states.seen
    assert broadcaster.reconnects >= 1
    pictures, _ = read_back(rtmp.recorded("k"))  # record_unique off: the file after the restart
    assert len(pictures) >= FPS
    assert_halves(pictures[-1])


def test_nothing_listening_fails_within_timeout() -> None:
    states = States()
    url = f"rtmp://127.0.0.1:{free_port()}/live/k"
    broadcaster = Broadcaster(BroadcastTarget("b1", url, connect_timeout=2), states)
    broadcaster.start()
    feed = Feed(broadcaster)
    feed.run(0.2)
    took = states.wait_for("failed", 3)
    assert took < 3
    assert states.names() == ["failed"]
    assert "k" not in (states.seen[0][1] or "").split("/")[-1]
    broadcaster.stop()


def test_stop_while_reconnecting_is_quick(rtmp: RtmpServer) -> None:
    states = States()
    target = BroadcastTarget("b1", rtmp.url("k"), connect_timeout=2, retry_initial=5)
    broadcaster = Broadcaster(target, states)
    broadcaster.start()
    feed = Feed(broadcaster)
    feed.run(1.5)
    rtmp.stop()
    feed.run(1.0)
    assert broadcaster.state == "reconnecting"
    began = time.monotonic()
    broadcaster.stop()
    assert time.monotonic() - began < 1.5
    assert states.names()[-1] == "stopped"


def test_redacted_keeps_no_key() -> None:
    assert redacted("rtmp://ingest.example:1935/live/abc123") == "rtmp://ingest.example:1935/live"


class Ticker:
    """A Python thread noting how long it was kept from running (the GIL held elsewhere)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        last = time.monotonic()
        while not self._done.wait(0.01):
            now = time.monotonic()
            self.longest = max(self.longest, now - last)
            last = now

    def stop(self) -> float:
        self._done.set()
        self._thread.join()
        return self.longest


@pytest.fixture
def silent() -> Iterator[str]:
    """An ingest that accepts TCP connections and never reads or answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"rtmp://127.0.0.1:{sock.getsockname()[1]}/live/silentkey"


def test_silent_ingest_fails_within_timeout_and_the_process_stays_responsive(silent: str) -> None:
    states = States()
    broadcaster = Broadcaster(BroadcastTarget("b1", silent, connect_timeout=1.5), states)
    ticker = Ticker()
    began = time.monotonic()
    broadcaster.start()
    feed = Feed(broadcaster)
    feed.run(2.5)  # the room keeps encoding in real time meanwhile
    took = states.wait_for("failed", 1.0) + (time.monotonic() - began)
    longest = ticker.stop()
    assert longest < 0.3, f"Python threads were blocked for {longest:.2f} s"
    assert took < 3.5
    assert states.names() == ["failed"]
    reason = states.seen[0][1] or ""
    assert "no answer within 1.5 s" in reason
    assert "silentkey" not in reason
    broadcaster.stop()


def test_stop_while_connecting_to_a_silent_ingest_is_quick(silent: str) -> None:
    states = States()
    broadcaster = Broadcaster(BroadcastTarget("b1", silent, connect_timeout=30), states)
    broadcaster.start()
    Feed(broadcaster).run(1.0)
    assert broadcaster.state == "connecting"
    began = time.monotonic()
    broadcaster.stop()
    assert time.monotonic() - began < 1.0
    assert states.names() == ["stopped"]


def test_rtmps_with_the_ingest_ca_pushes_and_reads_back(tmp_path: Path) -> None:
    with RtmpServer(tmp_path / "nginx", tls=True) as server:
        assert server.ca_file is not None
        states = States()
        target = BroadcastTarget(
            "b1", server.url("tlskey", tls=True), connect_timeout=5, ca_file=str(server.ca_file)
        )
        broadcaster = Broadcaster(target, states)
        broadcaster.start()
        Feed(broadcaster).run(3.0)
        assert broadcaster.state == "live", states.seen
        broadcaster.stop()
        assert states.names() == ["live", "stopped"]
        pictures, audio = read_back(server.recorded("tlskey"))
    assert len(pictures) >= 2 * FPS
    assert_halves(pictures[-1])
    assert audio >= 2 * 48000 // 1024


def test_rtmps_with_an_untrusted_certificate_fails(tmp_path: Path) -> None:
    with RtmpServer(tmp_path / "nginx", tls=True) as server:
        states = States()
        target = BroadcastTarget("b1", server.url("tlskey", tls=True), connect_timeout=5)
        broadcaster = Broadcaster(target, states)  # the system's trust store: not the test CA
        broadcaster.start()
        feed = Feed(broadcaster)
        feed.run(1.0)
        states.wait_for("failed", 4)
        broadcaster.stop()
        assert states.names() == ["failed"]
        assert "tlskey" not in (states.seen[0][1] or "")
        assert not server.recorded("tlskey").exists()


def test_the_ffmpeg_command_pins_the_address_and_verifies_the_name() -> None:
    target = BroadcastTarget(
        "b1",
        "rtmps://ingest.example:443/live/k3y",
        addresses=["192.0.2.7"],
        connect_timeout=2.5,
        ca_file="/etc/ca.pem",
    )
    url = pinned_url(target.url, target.addresses)
    command = ffmpeg_command(target, url)
    assert command[-1] == "rtmps://192.0.2.7:443/live/k3y"
    options = dict(itertools.pairwise(command))
    assert options["-rw_timeout"] == "2500000"
    assert options["-rtmp_tcurl"] == "rtmps://ingest.example:443/live"
    assert options["-tls_verify"] == "1"
    assert options["-verifyhost"] == "ingest.example"
    assert options["-ca_file"] == "/etc/ca.pem"
    plain = ffmpeg_command(
        BroadcastTarget("b1", "rtmp://127.0.0.1/live/k"), "rtmp://127.0.0.1/live/k"
    )
    assert "-tls_verify" not in plain
    assert "-rtmp_tcurl" not in plain


def test_ffmpeg_messages_lose_the_stream_key() -> None:
    scrub = Scrub("rtmp://ingest.example:1935/live/k3y", "rtmp://192.0.2.7:1935/live/k3y")
    text = scrub("rtmp://192.0.2.7:1935/live/k3y: Connection refused (/live/k3y)")
    assert "k3y" not in text
    assert text.startswith("rtmp://ingest.example:1935/live: Connection refused")
