"""N Python participants for benchmarks/media.py, all in this one process.

    python benchmarks/media_clients.py --url http://127.0.0.1:PORT --server-pid PID -n 4

Each participant is an aiortc peer sending 640x360@15 H.264 and a sine tone. To keep this
process cheap the video is encoded once (libx264 ultrafast, 500 kbit/s, with vidroom's own
``SharedEncoder``) and the same ``av.Packet``s go to every participant's sender, as in
media-measured.md §4: the server still receives and decodes N independent streams. Every
picture carries a 16-bit frame counter (a 4x4 square of black/white 32x32 blocks in the middle
of the Y plane, which a camera tile's crop to its cell keeps); each participant decodes the
composite, finds its own tile (the server reports the tiles), reads the counter back and
records capture→receive time the first time it sees each
counter value (glass-to-glass without camera and display). With ``--watchers K`` only the
first K participants decode; the others count the composite frames they receive (whole
encoded frames, as their jitter buffer assembles them) without decoding, so that N clients fit
beside the server on a small machine: the server does the same work either way. Receivers
use vidroom's marker-bit jitter buffer too (a browser's adds only a few ms).

After a warm-up it measures a window: the server's CPU from /proc/<pid>/stat, its own CPU,
latencies and per-participant frame rates; prints one JSON object on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
from typing import Any

import av
import httpx
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from vidroom.media.encoder import SharedEncoder
from vidroom.media.layout import Rect, cover
from vidroom.media.peer import video_preferences  # also installs the marker jitter buffer
from vidroom.media.testing import ToneAudioTrack, loopback_ice
from vidroom.media.tracks import PacketTrack, route_keyframe_requests

WIDTH, HEIGHT, FPS = 640, 360, 15
CLIENT_BITRATE = 500_000
BLOCK = 32  # counter block size in source pixels
BITS = 16
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- the source picture and its frame counter --------------------------------------------


class Source:
    """Synthetic camera: a scrolling noisy gradient and a moving block (so the encoders have
    real work), with the frame counter stamped into the middle. Deterministic per index."""

    def __init__(self, variants: int = 8) -> None:
        rng = np.random.default_rng(7)
        ramp = np.linspace(40, 200, WIDTH, dtype=np.float32)[None, :]
        rows = np.linspace(-20, 20, HEIGHT, dtype=np.float32)[:, None]
        base = ramp + rows
        self._luma = [
            np.clip(base + rng.normal(0, 3, (HEIGHT, WIDTH)), 0, 255).astype(np.uint8)
            for _ in range(variants)
        ]
        self._chroma = np.full((HEIGHT // 2, WIDTH), 128, np.uint8)  # U and V rows, grey

    def picture(self, index: int) -> np.ndarray[Any, Any]:
        """The yuv420p picture ``index`` as a (540, 640) array."""
        luma = np.roll(self._luma[index % len(self._luma)], index * 4, axis=1)
        x = (index * 6) % (WIDTH - 80)
        luma[270:340, x : x + 80] = 60 + (index * 3) % 120
        stamp(luma, index & 0xFFFF)
        return np.concatenate([luma, self._chroma])

    def frame(self, index: int) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(self.picture(index), format="yuv420p")


def block_at(bit: int) -> tuple[int, int]:
    """The top-left corner (x, y) of the counter's block ``bit`` in the source picture: a 4x4
    square in the middle, row by row (the middle survives a tile's crop to its cell)."""
    row, col = divmod(bit, 4)
    return WIDTH // 2 + (col - 2) * BLOCK, HEIGHT // 2 + (row - 2) * BLOCK


def stamp(luma: np.ndarray[Any, Any], counter: int) -> None:
    """Write ``counter`` (MSB first) as 16 blocks of BLOCKxBLOCK: white 1, black 0."""
    for bit in range(BITS):
        on = (counter >> (BITS - 1 - bit)) & 1
        x, y = block_at(bit)
        luma[y : y + BLOCK, x : x + BLOCK] = 235 if on else 16


def read_counter(frame: av.VideoFrame, rect: Rect) -> int | None:
    """The counter drawn in ``rect`` (where a 640x360 picture sits in ``frame``, cropped to
    its cell), or None when any block is not clearly black or white (no picture yet, a decode
    glitch)."""
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
    scale = rect.width / WIDTH
    value = 0
    for bit in range(BITS):
        x, y = block_at(bit)
        row = rect.y + int((y + BLOCK / 2) * scale)
        col = rect.x + int((x + BLOCK / 2) * scale)
        if not (0 < row < plane.height - 1 and 0 < col < plane.width - 1):
            return None
        level = int(luma[row - 1 : row + 2, col - 1 : col + 2].mean())
        if 70 < level < 180:
            return None
        value = value << 1 | (level >= 180)
    return value


# -- participants --------------------------------------------------------------------------


class FrameCounter:
    """Stands in for a receiver's decode queue: counts the whole encoded video frames the
    receiver assembles and drops them; passes the stop sentinel on to the real queue."""

    def __init__(self, real: Any, person: Participant) -> None:
        self.real = real
        self.person = person

    def get(self) -> Any:
        """For a decoder thread that started after the swap: it waits for the stop."""
        return self.real.get()

    def put(self, item: Any) -> None:
        if item is None:
            self.real.put(None)
        else:
            self.person.received()


class Participant:
    def __init__(
        self,
        index: int,
        encoder: SharedEncoder,
        captured: dict[int, float],
        watch: bool,
        room: str = "bench",
    ) -> None:
        self.index = index
        self.room = room
        self.watch = watch
        self.client_id = f"c{index}"
        self.name = f"Participant {index}"
        self.captured = captured
        self.video = PacketTrack(encoder.request_keyframe, maxsize=30)
        self.audio = ToneAudioTrack(300 + 40 * index)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        sender = self.pc.addTrack(self.video)
        route_keyframe_requests(sender, encoder.request_keyframe)
        for transceiver in self.pc.getTransceivers():
            if transceiver.sender is sender:
                transceiver.setCodecPreferences(video_preferences("H264"))
        self.pc.addTrack(self.audio)
        self.pc.on("track", self._on_track)
        self.tasks: list[asyncio.Task[None]] = []
        self.rect: Rect | None = None
        self.measuring = False
        self.frames = 0  # composite frames received (all time)
        self.window_frames = 0
        self.pictures = 0  # frames where the own counter was read
        self.unread = 0
        self.last_counter = -1
        self.latencies: list[float] = []

    async def connect(self, http: httpx.AsyncClient) -> None:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        response = await http.post(
            "/offer",
            json={
                "client_id": self.client_id,
                "name": self.name,
                "sdp": self.pc.localDescription.sdp,
                "room": self.room,
            },
        )
        response.raise_for_status()
        answer = RTCSessionDescription(sdp=response.json()["sdp"], type="answer")
        await self.pc.setRemoteDescription(answer)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and not self.watch:
            for transceiver in self.pc.getTransceivers():
                receiver = transceiver.receiver
                if receiver.track is track:
                    name = "_RTCRtpReceiver__decoder_queue"  # aiortc 1.16 (pinned)
                    setattr(receiver, name, FrameCounter(getattr(receiver, name), self))
        consume = self._video if track.kind == "video" and self.watch else self._drain
        self.tasks.append(asyncio.ensure_future(consume(track)))

    def received(self) -> None:
        """A composite frame arrived (counted, not decoded)."""
        self.frames += 1
        self.pictures = max(self.pictures, 1)  # it is in the meeting and receiving
        if self.measuring:
            self.window_frames += 1

    async def _drain(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    async def _video(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                now = time.monotonic()
                self.frames += 1
                if self.measuring:
                    self.window_frames += 1
                if self.rect is None or not isinstance(frame, av.VideoFrame):
                    continue
                counter = read_counter(frame, self.rect)
                captured = self.captured.get(counter) if counter is not None else None
                if counter is None or captured is None:
                    self.unread += int(self.measuring)
                    continue
                self.pictures += 1
                if counter == self.last_counter:
                    continue  # the same camera frame in a later composite: not new
                self.last_counter = counter
                if self.measuring and now >= captured:  # counters are kept 20 s
                    self.latencies.append(now - captured)

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def _stat(pid: int | str) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int | str) -> float:
    """utime + stime of a process (all threads), from /proc/<pid>/stat."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and every live descendant (its media workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(_stat(entry)[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            total += cpu_seconds(current)
        todo.extend(children.get(current, []))
    return total


def machine_busy_seconds() -> float:
    """CPU seconds spent busy by the whole machine (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLK_TCK  # minus idle and iowait


async def produce(
    source: Source,
    encoder: SharedEncoder,
    tracks: list[PacketTrack],
    captured: dict[int, float],
    sweep_s: float,
) -> None:
    """The one camera: a frame about every 1/15 s, encoded once, packets to every participant.

    A frame waits in the server for its next composite tick, 0 to 1/15 s depending on the phase
    between the camera's clock and the server's. Real cameras are not locked to the server, but
    this one camera would hold one phase for a whole run, so the latency would depend on the
    run's luck. Its period is therefore a little longer than 1/15 s, so that its phase sweeps
    one whole composite interval every ``sweep_s`` seconds (the measuring window): the latencies
    cover every phase evenly, as independent cameras would."""
    loop = asyncio.get_running_loop()
    period = (1 / FPS) * (1 + 1 / (FPS * sweep_s))
    start = loop.time()
    index = 0
    while True:
        frame = source.frame(index)
        counter = index & 0xFFFF
        captured[counter] = time.monotonic()
        captured.pop((counter - 300) & 0xFFFF, None)  # keep 20 s
        for packet in encoder.encode(frame, round(index * period * 90000)):
            for track in tracks:
                track.push(packet)
        index += 1
        await asyncio.sleep(max(0.0, start + index * period - loop.time()))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    source = Source()
    encoder = SharedEncoder((WIDTH, HEIGHT), FPS, bitrate=CLIENT_BITRATE)
    captured: dict[int, float] = {}
    watchers = args.n if args.watchers is None else min(args.watchers, args.n)
    rooms = [f"bench{r}" if args.rooms > 1 else "bench" for r in range(args.rooms)]
    # the watchers are spread over the rooms (the first ones of each)
    people = [
        Participant(i, encoder, captured, i // args.rooms < max(1, watchers // args.rooms),
                    rooms[i % args.rooms])
        for i in range(args.n)
    ]  # fmt: skip
    producer = asyncio.ensure_future(
        produce(source, encoder, [p.video for p in people], captured, args.seconds)
    )
    result: dict[str, Any] = {"n": args.n, "watchers": watchers}
    began = time.monotonic()
    try:
        async with httpx.AsyncClient(base_url=args.url, timeout=60) as http:
            for person in people:  # in order: the join order is the tile order
                await person.connect(http)
            result["connect_s"] = round(time.monotonic() - began, 2)
            deadline = time.monotonic() + args.ready_timeout
            tiles: dict[str, Rect] = {}
            while time.monotonic() < deadline:
                tiles = {}
                for room in rooms:
                    listed = (await http.get("/tiles", params={"room": room})).json()
                    tiles.update(
                        {t["client_id"]: Rect(t["x"], t["y"], t["width"], t["height"])
                         for t in listed}
                    )  # fmt: skip
                if len(tiles) == args.n:
                    break
                await asyncio.sleep(0.2)
            for person in people:
                cell = tiles.get(person.client_id)
                person.rect = cover(cell, (WIDTH, HEIGHT)) if cell else None  # cameras cover
            while time.monotonic() < deadline:  # every participant sees its own picture
                if all(p.pictures for p in people):
                    break
                await asyncio.sleep(0.1)
            result["ready_s"] = round(time.monotonic() - began, 2)
            result["without_picture"] = sum(p.pictures == 0 for p in people)
            await asyncio.sleep(args.warmup)

            busy0 = machine_busy_seconds()
            server0, own0, t0 = (
                tree_cpu_seconds(args.server_pid),
                cpu_seconds("self"),
                time.monotonic(),
            )
            for person in people:
                person.measuring = True
            await asyncio.sleep(args.seconds)
            for person in people:
                person.measuring = False
            server1, own1, t1 = (
                tree_cpu_seconds(args.server_pid),
                cpu_seconds("self"),
                time.monotonic(),
            )
            busy1 = machine_busy_seconds()
            stats = (await http.get("/stats")).json()
    finally:
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)
        await asyncio.gather(*(p.close() for p in people), return_exceptions=True)
    window = t1 - t0
    latencies = [x * 1000 for p in people for x in p.latencies]
    result.update(
        window_s=round(window, 3),
        server_cpu_s=round(server1 - server0, 3),
        clients_cpu_s=round(own1 - own0, 3),
        machine_busy_s=round(busy1 - busy0, 3),
        fps=[round(p.window_frames / window, 2) for p in people],
        latencies_ms=len(latencies),
        g2g_median_ms=round(statistics.median(latencies), 1) if latencies else None,
        g2g_p95_ms=round(float(np.percentile(latencies, 95)), 1) if latencies else None,
        unread=sum(p.unread for p in people),
        server=stats,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("-n", type=int, required=True)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--ready-timeout", type=float, default=30.0)
    parser.add_argument("--watchers", type=int, default=None, help="how many decode (all)")
    parser.add_argument("--rooms", type=int, default=1, help="meetings the N are spread over")
    args = parser.parse_args()
    with loopback_ice():
        result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
