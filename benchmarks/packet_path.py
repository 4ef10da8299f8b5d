"""The server's per-packet cost of sending the composite: aiortc's stock sender path against
vidroom's shared packetization + FanoutSender, side by side in one run.

    python benchmarks/packet_path.py [--receivers 8] [--seconds 10] [--warmup 3]

A fixed H.264 stream (1280x720@15, 1.5 Mbit/s, vidroom's ``SharedEncoder``, encoded once up
front and replayed in a loop) is sent to N aiortc receivers on 127.0.0.1 (``iceServers=[]``).
The receivers run in a child process (stock aiortc peers, recvonly, decoding everything); this
process holds only the N sending peer connections and a 15 fps pacing loop, so its CPU time
(``time.process_time``, all threads) over the window is the sending side's cost: RTP
packetization, headers, SRTP, sendto, and the RTCP the receivers send back.

- **old**: each peer's track is a :class:`~vidroom.media.tracks.PacketTrack` fed the shared
  ``av.Packet``; aiortc's ``RTCRtpSender`` packs it per peer (``encoder.pack``), builds an
  ``RtpPacket`` per payload and awaits ``_send_rtp`` per packet (what vidroom did before).
- **new**: the frame is packetized once (:class:`~vidroom.media.packetizer.Packetizer`) and
  pushed to each peer's :class:`~vidroom.media.rtp_sender.FrameTrack`, whose ``FanoutSender``
  stamps, protects and sends the frame's packets in one synchronous pass.

Prints, per mode: packets sent (the senders' ``getStats``), server CPU ms per 1,000 packets,
CPU % of one core per receiver, the receiving process's CPU % and how many frames the
receivers decoded; then the old/new ratios. The machine is shared: compare the modes of one
run, not runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import av
import numpy as np
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.stats import RTCOutboundRtpStreamStats

from vidroom.media import rtp_sender
from vidroom.media.encoder import VIDEO_TIME_BASE, SharedEncoder
from vidroom.media.packetizer import Packetizer
from vidroom.media.peer import video_preferences
from vidroom.media.rtp_sender import FrameTrack
from vidroom.media.testing import loopback_ice
from vidroom.media.tracks import PacketTrack

FPS = 15
SIZE = (1280, 720)
STREAM_FRAMES = 60  # the replayed loop: 4 s, a keyframe every 30 frames
MODES = ("old", "new")


def encode_stream() -> list[av.Packet[Any]]:
    """A moving test picture, encoded once: what every receiver gets, in a loop."""
    encoder = SharedEncoder(SIZE, FPS, min_keyframe_interval=0.0)
    width, height = SIZE
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (height * 3 // 2, width), dtype=np.uint8)
    packets: list[av.Packet[Any]] = []
    for index in range(STREAM_FRAMES):
        picture = np.roll(base, index * 8, axis=1)
        picture[: height // 4, : width // 4] = (index * 4) % 256
        frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
        if index % 30 == 0:
            encoder.request_keyframe()
        packets.extend(encoder.encode(frame, index * 90000 // FPS))
    encoder.close()
    return packets


# -- the receivers (child process) -------------------------------------------------------


async def _count_frames(track: MediaStreamTrack, counts: list[int], index: int) -> None:
    while True:
        try:
            frame = await track.recv()
        except MediaStreamError:
            return
        if isinstance(frame, av.VideoFrame):
            counts[index] += 1


async def _receivers(conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    pcs: list[RTCPeerConnection] = []
    counts: list[int] = []
    tasks: list[asyncio.Task[None]] = []
    started_cpu, started_counts = 0.0, [0]
    while True:
        message: dict[str, Any] = await loop.run_in_executor(None, conn.recv)
        kind = message["kind"]
        if kind == "offer":
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            index = len(pcs)
            pcs.append(pc)
            counts.append(0)
            pc.addTransceiver("video", direction="recvonly")

            def on_track(track: MediaStreamTrack, index: int = index) -> None:
                tasks.append(asyncio.ensure_future(_count_frames(track, counts, index)))

            pc.on("track", on_track)
            await pc.setLocalDescription(await pc.createOffer())
            conn.send({"sdp": pc.localDescription.sdp})
        elif kind == "answer":
            answer = RTCSessionDescription(sdp=message["sdp"], type="answer")
            await pcs[message["index"]].setRemoteDescription(answer)
            conn.send({})
        elif kind == "counts":
            conn.send({"counts": list(counts)})
        elif kind == "start":
            started_cpu, started_counts = time.process_time(), list(counts)
            conn.send({})
        elif kind == "stop":
            decoded = [now - then for now, then in zip(counts, started_counts, strict=True)]
            conn.send({"cpu_s": time.process_time() - started_cpu, "decoded": decoded})
        elif kind == "close":
            await asyncio.gather(*(pc.close() for pc in pcs))
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            conn.send({})
            return


def receivers_main(conn: Connection) -> None:
    with loopback_ice():
        asyncio.run(_receivers(conn))


# -- the sending side (this process) -----------------------------------------------------


@dataclass
class Result:
    mode: str
    receivers: int
    seconds: float
    packets: int
    server_cpu_s: float
    client_cpu_s: float
    decoded: list[int]

    @property
    def ms_per_1000_packets(self) -> float:
        return self.server_cpu_s * 1000 / max(1, self.packets) * 1000

    @property
    def percent_per_receiver(self) -> float:
        return self.server_cpu_s / self.seconds / self.receivers * 100

    @property
    def client_percent(self) -> float:
        return self.client_cpu_s / self.seconds * 100


class Child:
    """The receiving process and its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child_end = context.Pipe()
        self.process = context.Process(target=receivers_main, args=(child_end,), daemon=True)
        self.process.start()

    async def ask(self, **message: Any) -> dict[str, Any]:
        self.conn.send(message)
        reply: dict[str, Any] = await asyncio.get_running_loop().run_in_executor(
            None, self.conn.recv
        )
        return reply


async def packets_sent(pcs: list[RTCPeerConnection]) -> int:
    total = 0
    for pc in pcs:
        for sender in pc.getSenders():
            for stats in (await sender.getStats()).values():
                if isinstance(stats, RTCOutboundRtpStreamStats):
                    total += stats.packetsSent
    return total


async def run_mode(
    mode: str, receivers: int, stream: list[av.Packet[Any]], seconds: float, warmup: float
) -> Result:
    child = Child()
    pcs: list[RTCPeerConnection] = []
    old_tracks: list[PacketTrack] = []
    new_tracks: list[FrameTrack] = []
    for index in range(receivers):
        offer = await child.ask(kind="offer")
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        track: PacketTrack | FrameTrack
        if mode == "old":
            track = PacketTrack(lambda: None, maxsize=64)
            old_tracks.append(track)
        else:
            track = FrameTrack(lambda: None)
            new_tracks.append(track)
        sender = pc.addTrack(track)
        for transceiver in pc.getTransceivers():
            if transceiver.sender is sender:
                transceiver.setCodecPreferences(video_preferences("H264"))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await child.ask(kind="answer", index=index, sdp=pc.localDescription.sdp)
        pcs.append(pc)

    packetizer = Packetizer("H264")
    loop = asyncio.get_running_loop()
    period = 1 / FPS
    frame_index = 0

    async def feed(until: float) -> None:
        nonlocal frame_index
        start = loop.time() - frame_index * period
        while loop.time() < until:
            packet = stream[frame_index % len(stream)]
            # a rising pts: the loop repeats, the receivers' clock must not jump back
            rounds = frame_index // len(stream)
            copy = av.Packet(bytes(packet))
            copy.pts = (packet.pts or 0) + rounds * len(stream) * 90000 // FPS
            copy.time_base = VIDEO_TIME_BASE
            copy.is_keyframe = packet.is_keyframe
            if mode == "old":
                for old in old_tracks:
                    old.push(copy)
            else:
                frame = packetizer.packetize(copy)
                if frame is not None:
                    for new in new_tracks:
                        new.push(frame)
            frame_index += 1
            await asyncio.sleep(max(0.0, start + frame_index * period - loop.time()))

    # warm up until every receiver decodes, then the window
    await feed(loop.time() + warmup)
    deadline = loop.time() + 20
    while min((await child.ask(kind="counts"))["counts"]) == 0 and loop.time() < deadline:
        await feed(loop.time() + 0.5)
    await child.ask(kind="start")
    sent_before, cpu_before, wall_before = await packets_sent(pcs), time.process_time(), loop.time()
    await feed(loop.time() + seconds)
    cpu, wall = time.process_time() - cpu_before, loop.time() - wall_before
    sent = await packets_sent(pcs) - sent_before
    stop_at = await child.ask(kind="stop")
    await asyncio.gather(*(pc.close() for pc in pcs))
    await child.ask(kind="close")
    child.process.join(10)
    return Result(mode, receivers, wall, sent, cpu, stop_at["cpu_s"], stop_at["decoded"])


def report(results: list[Result]) -> None:
    print(
        f"{'mode':5} {'N':>3} {'packets':>8} {'server CPU s':>12} {'ms/1000 pkts':>12} "
        f"{'% core/recv':>11} {'clients %':>9} {'decoded frames (min/max)':>24}"
    )
    for r in results:
        print(
            f"{r.mode:5} {r.receivers:3d} {r.packets:8d} {r.server_cpu_s:12.2f} "
            f"{r.ms_per_1000_packets:12.1f} {r.percent_per_receiver:11.2f} "
            f"{r.client_percent:9.1f} {min(r.decoded):>11d}/{max(r.decoded):<12d}"
        )
    by_mode = {r.mode: r for r in results}
    if set(by_mode) == set(MODES):
        old, new = by_mode["old"], by_mode["new"]
        ratio = old.ms_per_1000_packets / new.ms_per_1000_packets
        print(f"old/new server CPU per 1,000 packets: {ratio:.2f}x")
        print(
            "old/new server CPU per receiver: "
            f"{old.percent_per_receiver / new.percent_per_receiver:.2f}x"
        )
        print(f"receiving clients, old/new CPU: {old.client_percent / new.client_percent:.2f}x")
    print(json.dumps([r.__dict__ for r in results]))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--receivers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    rtp_sender.install()
    started = time.perf_counter()
    stream = encode_stream()
    sizes = [p.size for p in stream]
    print(
        f"stream: {len(stream)} frames, {sum(sizes) * 8 * FPS / len(stream) / 1000:.0f} kbit/s, "
        f"encoded in {time.perf_counter() - started:.1f} s"
    )
    results = []
    with loopback_ice():
        for mode in args.modes.split(","):
            results.append(await run_mode(mode, args.receivers, stream, args.seconds, args.warmup))
    report(results)


if __name__ == "__main__":
    asyncio.run(main())
