"""Server CPU, glass-to-glass latency and client frame rates of vidroom's MCU with N Python
participants in one meeting, beside the codec floor measured in the same run, for encode-once
and per-participant encoding.

    python benchmarks/media.py [--participants 2,4,8,16] [--seconds 10] [--warmup 5]
                               [--modes shared,per-peer] [--widescreen]

For each N and mode: the media server alone runs in its own process (benchmarks/media_server.py:
``MediaSupervisor`` behind a tiny HTTP offer endpoint, no control plane), the N participants in
another (benchmarks/media_clients.py: 640x360@15 H.264 + Opus tone each, a frame counter drawn
into the video and read back from the composite). After a warm-up, the server's CPU is read from
/proc/<pid>/stat (utime+stime, all threads) over the window; 100 % is one core.

Codec floor: in this process, while nothing else of the benchmark runs, PyAV decodes N copies of
the participants' 360p H.264 stream (aiortc's decoder settings), composes them with vidroom's
``Compositor`` and encodes the composite with vidroom's ``SharedEncoder``, as many frames as the
window holds (15 fps); its CPU time over the window's length is the floor. For the per-peer mode
the floor counts N encodes, measured as N x the one encode (the frames are identical). The floor
is video only: audio (N Opus decodes, the mix-minus, N Opus encodes) and RTP/SRTP/RTCP work are
part of what server/floor shows as overhead. The machine is shared and noisy: compare the
columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
from media_clients import CLIENT_BITRATE, FPS, HEIGHT, WIDTH, Source

from vidroom.media import layout
from vidroom.media.compositor import Compositor, TileSource
from vidroom.media.contract import RoomSpec
from vidroom.media.encoder import VIDEO_TIME_BASE, SharedEncoder

HERE = Path(__file__).resolve().parent
MODES = ("shared", "per-peer")


@dataclass
class Floor:
    frames: int
    decode_s: float  # N decoders over all frames
    compose_s: float
    encode_s: float  # one encoder

    def cpu_s(self, encodes: int) -> float:
        return self.decode_s + self.compose_s + encodes * self.encode_s


@dataclass
class Run:
    mode: str
    n: int
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def measure_floor(n: int, frames: int, size: tuple[int, int]) -> Floor:
    """Decode N streams + compose + encode ``frames`` frames, timed by this process's CPU."""
    source = Source()
    camera = SharedEncoder((WIDTH, HEIGHT), FPS, bitrate=CLIENT_BITRATE)
    stream = [
        b"".join(bytes(p) for p in camera.encode(source.frame(i), i * 90000 // FPS))
        for i in range(frames)
    ]
    decoders = [av.CodecContext.create("h264", "r") for _ in range(n)]
    compositor = Compositor(size, RoomSpec(meeting_id="floor").background_color, True)
    encoder = SharedEncoder(size, FPS)
    cells = layout.grid(n, size)
    latest: list[av.VideoFrame | None] = [None] * n
    decode_s = compose_s = encode_s = 0.0
    for i, data in enumerate(stream):
        pts = i * 90000 // FPS
        started = time.process_time()
        for k, decoder in enumerate(decoders):
            packet = av.Packet(data)
            packet.pts, packet.time_base = pts, VIDEO_TIME_BASE
            for picture in decoder.decode(packet):
                latest[k] = picture
        decoded = time.process_time()
        tiles = [TileSource(f"c{k}", f"Participant {k}", latest[k]) for k in range(n)]
        composite = compositor.compose(cells, tiles)
        composed = time.process_time()
        encoder.encode(composite, pts)
        done = time.process_time()
        decode_s += decoded - started
        compose_s += composed - decoded
        encode_s += done - composed
    return Floor(frames, decode_s, compose_s, encode_s)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_once(mode: str, n: int, args: argparse.Namespace) -> Run:
    port = free_port()
    command = [sys.executable, str(HERE / "media_server.py"), "--port", str(port), "--mode", mode]
    if args.widescreen:
        command.append("--widescreen")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    run = Run(mode, n)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        clients = [
            sys.executable, str(HERE / "media_clients.py"), "--url", base,
            "--server-pid", str(server.pid), "-n", str(n),
            "--warmup", str(args.warmup), "--seconds", str(args.seconds),
            "--watchers", str(args.watchers),
        ]  # fmt: skip
        budget = 30 + args.warmup + args.seconds + 60
        done = subprocess.run(clients, capture_output=True, text=True, timeout=budget)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or not lines:
            run.error = (done.stderr.strip().splitlines() or ["no output"])[-1][:120]
        else:
            run.result = json.loads(lines[-1])
    except subprocess.TimeoutExpired:
        run.error = "clients timed out"
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return run


def fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def table(mode: str, runs: list[Run], floors: dict[int, Floor]) -> None:
    title = "encode-once (vidroom's room)" if mode == "shared" else "per-participant encoding"
    print(f"\n{title} [{mode}]")
    head = (f"{'N':>3}{'server CPU %':>14}{'CPU %/part':>12}{'floor CPU %':>13}"
            f"{'server/floor':>14}{'g2g med ms':>12}{'g2g p95 ms':>12}{'min fps':>9}"
            f"{'clients CPU %':>15}{'others CPU %':>14}{'comp fps':>10}"
            f"{'srv drops':>11}")  # fmt: skip
    print(head)
    for run in runs:
        if run.error:
            print(f"{run.n:>3}  failed: {run.error}")
            continue
        r = run.result
        window = r["window_s"]
        server = r["server_cpu_s"] / window * 100
        clients = r["clients_cpu_s"] / window * 100
        others = max(0.0, r["machine_busy_s"] / window * 100 - server - clients)
        floor = floors[run.n].cpu_s(1 if mode == "shared" else run.n) / window * 100
        notes = [f"{r['without_picture']} never saw their tile"] if r["without_picture"] else []
        if r["server"].get("composite_fps", 0) < 14 or min(r["fps"]) < 14:
            notes.append("below 15 fps: saturated, CPU ratios undercount")
        if r["unread"]:
            notes.append(f"{r['unread']} composites with an unreadable counter")
        extra = f"  ({'; '.join(notes)})" if notes else ""
        print(f"{run.n:>3}{server:>14.1f}{server / run.n:>12.1f}{floor:>13.1f}"
              f"{server / floor:>14.2f}{fmt(r['g2g_median_ms']):>12}{fmt(r['g2g_p95_ms']):>12}"
              f"{min(r['fps']):>9.1f}{clients:>15.1f}{others:>14.1f}"
              f"{r['server'].get('composite_fps', 0):>10.1f}"
              f"{r['server'].get('dropped_frames', 0):>11}{extra}")  # fmt: skip


def compare(runs: dict[tuple[str, int], Run], participants: list[int]) -> None:
    print("\nencode-once vs per-participant (same run):")
    for n in participants:
        once, each = runs.get(("shared", n)), runs.get(("per-peer", n))
        if not once or not each or once.error or each.error:
            print(f"  N={n:<2}  not comparable (a mode failed or was not run)")
            continue
        a = once.result["server_cpu_s"] / once.result["window_s"] * 100
        b = each.result["server_cpu_s"] / each.result["window_s"] * 100
        print(f"  N={n:<2}  server CPU {a:5.1f} % vs {b:5.1f} % ({b / a:4.2f}x),"
              f" g2g median {fmt(once.result['g2g_median_ms'])} vs"
              f" {fmt(each.result['g2g_median_ms'])} ms, min fps"
              f" {min(once.result['fps']):.1f} vs {min(each.result['fps']):.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", default="2,4,8,16")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--widescreen", action="store_true")
    parser.add_argument(
        "--watchers",
        type=int,
        default=4,
        help="how many participants decode the composite (latency, counters); the others"
        " count the frames they receive without decoding (default 4)",
    )
    args = parser.parse_args()
    participants = [int(x) for x in args.participants.split(",") if x.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip() in MODES]
    size = RoomSpec(meeting_id="bench", widescreen=args.widescreen).size

    began = time.monotonic()
    runs: dict[tuple[str, int], Run] = {}
    floors: dict[int, Floor] = {}
    for n in participants:
        for mode in modes:
            runs[(mode, n)] = run_once(mode, n, args)
        floors[n] = measure_floor(n, round(args.seconds * FPS), size)

    print(f"vidroom media server, one meeting: N participants 640x360@15 H.264 + Opus each,"
          f" composite {size[0]}x{size[1]}@{FPS} H.264 (x264 ultrafast);"
          f" {args.warmup:.0f} s warm-up, {args.seconds:.0f} s window per row;"
          f" at most {args.watchers} participants decode the composite, the others count"
          f" the frames they receive;"
          f" CPU % of one core (2 cores = 200 %)")  # fmt: skip
    print(
        "floor = PyAV directly on the same frames: N decodes + 1 compose + 1 encode"
        " (per-participant: N encodes = N x the one encode measured); video only"
    )
    for n, f in floors.items():
        print(f"  floor N={n:<2}: {f.decode_s / f.frames / n * 1000:.2f} ms per 360p decode,"
              f" {f.compose_s / f.frames * 1000:.2f} ms compose,"
              f" {f.encode_s / f.frames * 1000:.2f} ms encode per frame")  # fmt: skip
    for mode in modes:
        table(mode, [runs[(mode, n)] for n in participants], floors)
    if len(modes) == 2:
        compare(runs, participants)
    print(f"\n(total {time.monotonic() - began:.0f} s)")
    print("min fps = the slowest participant's received composite rate (decoded, or received")
    print("whole for those who do not decode); g2g = capture to decoded composite, first")
    print("appearance of each camera frame, pooled over the participants who decode;")
    print("comp fps = the server's own composite rate; others = the rest of the machine in the")
    print("window (e.g. other people's tests); srv drops = composite packets the server dropped")
    print("from full per-participant send queues (whole run, warm-up included)")


if __name__ == "__main__":
    main()
