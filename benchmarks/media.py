"""Server CPU, glass-to-glass latency and client frame rates of vidroom's MCU with N Python
participants in one meeting, beside the codec floor measured in the same run, for encode-once
and per-participant encoding.

    python benchmarks/media.py [--participants 2,4,8,16,3x6] [--seconds 10] [--warmup 5]
                               [--modes workers,in-process,per-peer] [--widescreen] [--no-pin]

``RxN`` is R meetings of N participants each at once (``3x6``: three rooms of six).

For each case and mode: the media server alone runs in its own process
(benchmarks/media_server.py, behind a tiny HTTP offer endpoint, no control plane), the
participants in another (benchmarks/media_clients.py: 640x360@15 H.264 + Opus tone each, a frame
counter drawn into the video and read back from the composite). Modes:

- ``workers``: media worker processes, as ``vidroom serve`` runs them: one worker for one
  meeting, one per core for several (a meeting lives on one worker);
- ``in-process``: the media server inside the server process (``VIDROOM_MEDIA_WORKERS=0``);
- ``per-peer``: in-process, the composite encoded once per participant (for comparison).

With one worker or none, the server (and its worker) is pinned to core 0 and the clients to
core 1 (``taskset``), so the load generator never takes the server's core; runs with several
workers are not pinned (two cores hold both workers and the clients). After a warm-up, the
server's CPU (its process and every worker, utime+stime of all threads from /proc) is read over
the window; 100 % is one core.

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
import os
import socket
import statistics
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
CORES = os.cpu_count() or 1
MODES = ("workers", "in-process", "per-peer")


@dataclass(frozen=True)
class Case:
    rooms: int
    n: int  # participants per room

    @property
    def total(self) -> int:
        return self.rooms * self.n

    @property
    def label(self) -> str:
        return str(self.n) if self.rooms == 1 else f"{self.rooms}x{self.n}"

    @classmethod
    def parse(cls, text: str) -> Case:
        rooms, _, n = text.strip().rpartition("x")
        return cls(int(rooms or 1), int(n))


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
    case: Case
    workers: int = 0
    pinned: bool = False
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


def run_once(mode: str, case: Case, args: argparse.Namespace) -> Run:
    port = free_port()
    cores = len(os.sched_getaffinity(0))
    workers = 0 if mode != "workers" else (1 if case.rooms == 1 else cores)
    pinned = args.pin and workers <= 1 and cores >= 2
    server_cpus = ["taskset", "-c", "0"] if pinned else []
    client_cpus = ["taskset", "-c", "1"] if pinned else []
    command = [
        *server_cpus, sys.executable, str(HERE / "media_server.py"), "--port", str(port),
        "--mode", "per-peer" if mode == "per-peer" else "shared", "--workers", str(workers),
    ]  # fmt: skip
    if args.widescreen:
        command.append("--widescreen")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    run = Run(mode, case, workers, pinned)
    n = case.total
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        clients: list[str] = [
            *client_cpus, sys.executable, str(HERE / "media_clients.py"), "--url", base,
            "--server-pid", str(server.pid), "-n", str(n), "--rooms", str(case.rooms),
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


TITLES = {
    "workers": "media workers (vidroom serve's default)",
    "in-process": "media in the server process (VIDROOM_MEDIA_WORKERS=0)",
    "per-peer": "per-participant encoding, in-process (for comparison)",
}


def server_cpu(run: Run) -> float:
    return float(run.result["server_cpu_s"]) / float(run.result["window_s"]) * 100


def table(mode: str, runs: list[Run], floors: dict[Case, Floor]) -> None:
    print(f"\n{TITLES[mode]} [{mode}]")
    head = (f"{'case':>5}{'wrk':>4}{'pin':>4}{'server CPU %':>14}{'CPU %/part':>12}"
            f"{'floor CPU %':>13}{'server/floor':>14}{'g2g med ms':>12}{'g2g p95 ms':>12}"
            f"{'min fps':>9}{'med fps':>9}{'clients CPU %':>15}{'others CPU %':>14}"
            f"{'comp fps':>10}{'srv drops':>11}")  # fmt: skip
    print(head)
    for run in runs:
        case = run.case
        if run.error:
            print(f"{case.label:>5}  failed: {run.error}")
            continue
        r = run.result
        window = r["window_s"]
        server = server_cpu(run)
        clients = r["clients_cpu_s"] / window * 100
        others = max(0.0, r["machine_busy_s"] / window * 100 - server - clients)
        encodes = 1 if mode != "per-peer" else case.n
        floor = floors[case].cpu_s(encodes) * case.rooms / window * 100
        rooms = r["server"].get("rooms", [])
        comp = min((room.get("composite_fps", 0.0) for room in rooms), default=0.0)
        drops = sum(room.get("dropped_frames", 0) for room in rooms)
        notes = [f"{r['without_picture']} never saw their tile"] if r["without_picture"] else []
        if comp < 14 or min(r["fps"]) < 14:
            notes.append("below 15 fps: saturated, CPU ratios undercount")
        if r["unread"]:
            notes.append(f"{r['unread']} composites with an unreadable counter")
        extra = f"  ({'; '.join(notes)})" if notes else ""
        print(f"{case.label:>5}{run.workers:>4}{'yes' if run.pinned else 'no':>4}"
              f"{server:>14.1f}{server / case.total:>12.1f}{floor:>13.1f}"
              f"{server / floor:>14.2f}{fmt(r['g2g_median_ms']):>12}{fmt(r['g2g_p95_ms']):>12}"
              f"{min(r['fps']):>9.1f}{statistics.median(r['fps']):>9.1f}{clients:>15.1f}"
              f"{others:>14.1f}{comp:>10.1f}{drops:>11}{extra}")  # fmt: skip


def compare(runs: dict[tuple[str, Case], Run], cases: list[Case], a: str, b: str) -> None:
    print(f"\n{a} vs {b} (same run):")
    for case in cases:
        one, other = runs.get((a, case)), runs.get((b, case))
        if not one or not other or one.error or other.error:
            print(f"  {case.label:<5} not comparable (a mode failed or was not run)")
            continue
        x, y = server_cpu(one), server_cpu(other)
        print(f"  {case.label:<5} server CPU {x:5.1f} % vs {y:5.1f} % ({y / x:4.2f}x),"
              f" g2g median {fmt(one.result['g2g_median_ms'])} vs"
              f" {fmt(other.result['g2g_median_ms'])} ms, min fps"
              f" {min(one.result['fps']):.1f} vs {min(other.result['fps']):.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", default="2,4,8,16,3x6")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--modes", default="workers,in-process")
    parser.add_argument("--widescreen", action="store_true")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset pinning")
    parser.add_argument(
        "--watchers",
        type=int,
        default=4,
        help="how many participants decode the composite (latency, counters); the others"
        " count the frames they receive without decoding (default 4)",
    )
    args = parser.parse_args()
    cases = [Case.parse(x) for x in args.participants.split(",") if x.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip() in MODES]
    size = RoomSpec(meeting_id="bench", widescreen=args.widescreen).size

    began = time.monotonic()
    runs: dict[tuple[str, Case], Run] = {}
    floors: dict[Case, Floor] = {}
    for case in cases:
        for mode in modes:
            runs[(mode, case)] = run_once(mode, case, args)
        floors[case] = measure_floor(case.n, round(args.seconds * FPS), size)

    print(f"vidroom media server: participants 640x360@15 H.264 + Opus each,"
          f" composite {size[0]}x{size[1]}@{FPS} H.264 (x264 ultrafast) per meeting;"
          f" {args.warmup:.0f} s warm-up, {args.seconds:.0f} s window per row;"
          f" at most {args.watchers} participants decode the composite, the others count"
          f" the frames they receive;"
          f" CPU % of one core ({CORES} cores = {100 * CORES} %)")  # fmt: skip
    print(
        "floor = PyAV directly on the same frames: N decodes + 1 compose + 1 encode per meeting"
        " (per-participant: N encodes = N x the one encode measured); video only"
    )
    for case, f in floors.items():
        print(f"  floor {case.label:<5}: {f.decode_s / f.frames / case.n * 1000:.2f} ms per 360p"
              f" decode, {f.compose_s / f.frames * 1000:.2f} ms compose,"
              f" {f.encode_s / f.frames * 1000:.2f} ms encode per frame")  # fmt: skip
    for mode in modes:
        table(mode, [runs[(mode, case)] for case in cases], floors)
    if "workers" in modes and "in-process" in modes:
        compare(runs, cases, "workers", "in-process")
    if "in-process" in modes and "per-peer" in modes:
        compare(runs, cases, "in-process", "per-peer")
    print(f"\n(total {time.monotonic() - began:.0f} s)")
    print("wrk = media worker processes; pin = server on core 0, clients on core 1 (taskset);")
    print("min/med fps = the slowest / the median participant's received composite rate")
    print("(decoded, or received whole for those who do not decode); g2g = capture to decoded")
    print("composite, first appearance of each camera frame, pooled over the participants who")
    print("decode; comp fps = the slowest meeting's own composite rate; others = the rest of")
    print("the machine in the window (e.g. other people's tests); srv drops = composite packets")
    print("the server dropped from full per-participant send queues (whole run)")


if __name__ == "__main__":
    main()
