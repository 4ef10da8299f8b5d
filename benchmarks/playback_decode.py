"""Decode CPU per playback: process CPU time per second of media for 1, 2 and 4 concurrent
640x360 H.264 playbacks (``vidroom.media.playback.Playback``, each in its own thread, paced at
real time), measured one after the other in one run, with the ratio to one playback.

    python benchmarks/playback_decode.py [--seconds 6] [--fps 25] [--audio]

The clip is made first with PyAV (a moving gradient with noisy blocks, so the decoder has real
work; libx264 at its default CRF, about 4 s, looped), in a temporary directory. Each round
starts N playbacks of it with ``loop_count`` -1, waits ``--seconds`` of wall time, and divides
the process CPU time used (``time.process_time``: every thread) by N x the seconds played.
``--audio`` adds an AAC tone to the clip and plays it (resampling included; the frames go
nowhere). Everything stays in this process; a run takes well under a minute.
"""

from __future__ import annotations

import argparse
import fractions
import math
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from vidroom.media.contract import PlaybackSpec
from vidroom.media.playback import Playback, open_media

SIZE = (640, 360)
COUNTS = (1, 2, 4)


def make_clip(path: Path, fps: int, seconds: float, audio: bool) -> Path:
    width, height = SIZE
    rng = np.random.default_rng(7)
    ys, xs = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = container.add_stream("aac", rate=48000) if audio else None
        for i in range(round(seconds * fps)):
            picture = np.empty((height, width, 3), np.uint8)
            picture[..., 0] = (xs + 4 * i) % 256
            picture[..., 1] = (ys + 2 * i) % 256
            picture[..., 2] = (xs + ys + 6 * i) % 256
            blocks = rng.integers(0, 255, (height // 8, width // 8, 3), np.uint8)
            picture[: height // 2] = (
                picture[: height // 2] // 2
                + np.kron(blocks, np.ones((8, 8, 1), np.uint8))[: height // 2] // 2
            )
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts, frame.time_base = i, fractions.Fraction(1, fps)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        if sound is not None:
            for first in range(0, round(seconds * 48000), 1024):
                t = np.arange(first, first + 1024) / 48000 * 2 * math.pi * 440
                samples = (np.sin(t) * 8000).astype(np.int16).reshape(1, -1)
                chunk = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
                chunk.sample_rate, chunk.pts = 48000, first
                chunk.time_base = fractions.Fraction(1, 48000)
                for packet in sound.encode(chunk):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
    return path


def measure(path: Path, count: int, seconds: float, audio: bool) -> float:
    """CPU seconds per second of media and per playback."""
    ended: list[str | None] = []
    playbacks = []
    for i in range(count):
        spec = PlaybackSpec(f"b{i}", str(path), loop_count=-1, audio=audio)
        playbacks.append(
            Playback(
                spec,
                open_media(str(path), audio),
                on_audio=(lambda frame: None) if audio else None,
                on_end=ended.append,
            )
        )
    cpu, wall = time.process_time(), time.monotonic()
    for playback in playbacks:
        playback.start()
    time.sleep(seconds)
    used, played = time.process_time() - cpu, time.monotonic() - wall
    for playback in playbacks:
        playback.stop()
    if ended or any(p.alive for p in playbacks):
        raise SystemExit(f"a playback ended or did not stop: {ended}")
    if any(p.picture() is None for p in playbacks):
        raise SystemExit("a playback showed no picture")
    return used / (count * played)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--audio", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        made = time.monotonic()
        clip = make_clip(Path(tmp) / "clip.mp4", args.fps, 4.0, args.audio)
        with av.open(str(clip)) as container:
            kbps = clip.stat().st_size * 8 / 4.0 / 1000
            codec = container.streams.video[0].codec_context.name
        extra = ", AAC audio played" if args.audio else ""
        took = time.monotonic() - made
        print(
            f"clip: {SIZE[0]}x{SIZE[1]} {codec} {args.fps} fps, {kbps:.0f} kbit/s{extra}"
            f" (made in {took:.1f} s)"
        )
        idle = time.process_time()
        time.sleep(1.0)
        print(f"idle process: {1000 * (time.process_time() - idle):.1f} ms CPU per second")
        results = {n: measure(clip, n, args.seconds, args.audio) for n in COUNTS}
    print(f"{'playbacks':>9}  {'CPU ms per media s, each':>24}  {'ratio to one':>12}")
    for count, per in results.items():
        print(f"{count:>9}  {1000 * per:>24.1f}  {per / results[1]:>12.2f}")
    print(f"(one playback: {100 * results[1]:.1f}% of a core)")


if __name__ == "__main__":
    main()
