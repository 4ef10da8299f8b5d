"""The Recorder on its own, fed by a real H.264 encoder (the room's ``SharedEncoder``) and the
egress's real AAC encoder, without peers: what lands in the file, packet by packet."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from tests.media.recordings import probe
from vidroom.media import recorder as recorder_module
from vidroom.media.contract import RecordingTarget
from vidroom.media.egress import AacEncoder
from vidroom.media.egress_types import VideoPacket
from vidroom.media.encoder import SharedEncoder
from vidroom.media.recorder import Recorder

FPS = 15
STEP = 90000 // FPS  # 90 kHz per frame
TICK = 960  # audio samples per 20 ms


class Feed:
    """A synthetic room clock: frames of a solid colour and a 440 Hz tone, both stamped on
    the same clock the room uses (90 kHz video, 48 kHz audio, one origin)."""

    def __init__(self, size: tuple[int, int] = (320, 240)) -> None:
        self.encoder = SharedEncoder(size, FPS, min_keyframe_interval=0)
        self.aac = AacEncoder(0)
        self.frame = 0
        self.samples = 0
        self.keyframes_sent = 0

    def resize(self, size: tuple[int, int]) -> None:
        self.encoder.close()
        self.encoder = SharedEncoder(
            size, FPS, min_keyframe_interval=0
        )  # as Renditions does: a new encoder

    def video(self, rgb: tuple[int, int, int]) -> list[VideoPacket]:
        width, height = self.encoder.size
        picture = np.empty((height, width, 3), np.uint8)
        picture[:] = rgb
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        pts = self.frame * STEP
        self.frame += 1
        out = []
        for packet in self.encoder.encode(frame, pts):
            self.keyframes_sent += int(packet.is_keyframe)
            out.append(VideoPacket(bytes(packet), pts, packet.is_keyframe, width, height))
        return out

    def run(self, sink: Recorder, frames: int, rgb: tuple[int, int, int] = (200, 30, 30)) -> None:
        """``frames`` frames and the audio that goes with them, interleaved as in a room."""
        for _ in range(frames):
            for packet in self.video(rgb):
                sink.video(packet)
            until = self.frame * STEP * 48000 // 90000
            while self.samples < until:
                t = np.arange(self.samples, self.samples + TICK) / 48000
                tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
                for sound in self.aac.encode(tone, self.samples):
                    sink.audio(sound)
                self.samples += TICK


@pytest.fixture
def feed() -> Iterator[Feed]:
    made = Feed()
    yield made
    made.encoder.close()


def wants(rec: Recorder) -> bool:
    """Read afresh each time (the recorder's threads change it)."""
    return rec.wants_keyframe


def started(path: Path, **options: object) -> Recorder:
    rec = Recorder(RecordingTarget("r", str(path)), **options)  # type: ignore[arg-type]
    rec.start()
    return rec


def test_every_frame_is_copied_from_the_first_keyframe_on(feed: Feed, tmp_path: Path) -> None:
    path = tmp_path / "a.mp4"
    rec = started(path)
    feed.run(rec, 45)
    result = rec.stop()
    found = probe(str(path), every=1)
    assert found.errors == 0
    assert len(found.video_times) == 45  # stream copy: one file frame per encoded frame
    assert found.video_times[0] == 0.0
    assert abs(found.video_span - 3.0) < 0.01
    assert abs(result.duration - 3.0) < 0.01
    assert result.size == os.path.getsize(path)
    assert abs(found.audio.shape[0] / 48000 - 3.0) < 0.1
    assert feed.encoder.frames == 45  # nothing but the room's encoder encoded video


def test_it_starts_at_a_keyframe_and_asks_for_one(feed: Feed, tmp_path: Path) -> None:
    path = tmp_path / "b.mp4"
    for _ in range(5):
        feed.video((200, 30, 30))  # the room's first keyframe is long gone
    rec = started(path)
    assert wants(rec)
    feed.run(rec, 10)  # inter frames only: nothing is written
    assert wants(rec)
    feed.encoder.request_keyframe()
    feed.run(rec, 15)
    assert not wants(rec)
    rec.stop()
    found = probe(str(path), every=1)
    assert found.errors == 0
    assert 14 <= len(found.video_times) <= 15  # from the forced keyframe on


def test_pause_shifts_what_follows_back_by_the_paused_time(feed: Feed, tmp_path: Path) -> None:
    path = tmp_path / "c.mp4"
    rec = started(path)
    feed.run(rec, 30, (200, 30, 30))
    rec.pause()
    assert rec.paused
    assert not wants(rec)
    feed.run(rec, 45, (30, 200, 30))  # 3 s not recorded
    rec.resume()
    assert wants(rec)
    feed.run(rec, 5, (30, 30, 200))  # no keyframe yet: not written either
    feed.encoder.request_keyframe()
    feed.run(rec, 30, (30, 30, 200))
    result = rec.stop()
    found = probe(str(path), every=1)
    assert found.errors == 0
    assert abs(result.duration - 4.0) < 0.1, result
    assert abs(found.video_span - 4.0) < 0.1
    steps = np.diff(np.array(found.video_times))
    assert np.allclose(steps, 1 / FPS, atol=0.002)  # continuous: no gap, nothing frozen
    middle = [p[1][120, 160] for p in found.pictures]
    assert not any(int(rgb[1]) > 150 for rgb in middle)  # nothing of the paused stretch
    assert abs(found.audio.shape[0] / 48000 - 4.0) < 0.15


def test_a_size_change_decodes_at_the_new_size(feed: Feed, tmp_path: Path) -> None:
    path = tmp_path / "d.mp4"
    rec = started(path)
    feed.run(rec, 20)
    feed.resize((320, 180))
    feed.run(rec, 20)
    feed.resize((320, 240))
    feed.run(rec, 20)
    rec.stop()
    found = probe(str(path), every=1)
    assert found.errors == 0
    assert found.sizes == [(320, 240)] * 20 + [(320, 180)] * 20 + [(320, 240)] * 20


def test_an_overflow_drops_video_up_to_the_next_keyframe(
    feed: Feed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "QUEUE_SIZE", 8)
    path = tmp_path / "e.mp4"
    rec = Recorder(RecordingTarget("e", str(path)))  # not started: its queue fills up
    feed.run(rec, 20)
    assert rec.dropped > 0
    assert wants(rec)
    rec.start()
    feed.run(rec, 10)  # inter frames: still dropped
    feed.encoder.request_keyframe()
    feed.run(rec, 15)
    rec.stop()
    found = probe(str(path), every=1)
    assert found.errors == 0  # no frame without its references


def test_a_write_error_ends_the_recording(feed: Feed, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    called = threading.Event()
    rec = started(blocker / "f.mp4", on_error=lambda r: called.set())
    feed.run(rec, 5)
    assert called.wait(5)
    assert rec.failed is not None
    assert not wants(rec)
    result = rec.stop()
    assert (result.size, result.duration) == (0, 0)


def test_stop_before_any_media(tmp_path: Path) -> None:
    path = tmp_path / "g.mp4"
    result = started(path).stop()
    assert (result.recording_id, result.duration, result.size) == ("r", 0, 0)
    assert not path.exists()


def test_the_file_on_disk_plays_up_to_the_last_second_while_recording(
    feed: Feed, tmp_path: Path
) -> None:
    """What a SIGKILL leaves: the bytes on disk now, the recorder still running."""
    path = tmp_path / "h.mp4"
    rec = started(path)
    try:
        feed.run(rec, 105)  # 7 s; the encoder's own keyframes come at 0 s and 4 s
        deadline = time.monotonic() + 5
        while not rec._queue.empty() and time.monotonic() < deadline:  # the thread caught up
            time.sleep(0.02)
        time.sleep(0.2)
        cut = tmp_path / "cut.mp4"
        shutil.copyfile(path, cut)
        found = probe(str(cut), every=1)
    finally:
        rec.stop()
    assert found.errors == 0
    assert found.video_span >= 7 - 1.1, found.video_span  # at most about a second lost
    assert found.audio.shape[0] / 48000 >= 7 - 1.5
    assert probe(str(path)).video_span == pytest.approx(7.0, abs=0.01)
