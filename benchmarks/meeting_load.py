"""A running meeting as load: N cheap participants in one meeting of a real ``vidroom serve``.

    python benchmarks/meeting_load.py --url http://127.0.0.1:PORT --api-key KEY -n 16 \\
        [--seconds 60] [--room load]

Each participant joins like a client of the meeting API: ``POST /rooms`` with the API key (the
same room id for all), ``GET /rooms/<access_key>`` until ready, then SEPP on ``/call``
(``call_start`` with an SDP offer, ``call_accepted``), and keeps its signalling socket open. To
stay cheap they send one pre-encoded 640x360@15 H.264 stream (as benchmarks/media_clients.py
does) and a tone, and count the composite frames they receive without decoding them. It prints
``ready`` once every participant receives the composite, runs for ``--seconds`` (or until
SIGTERM), and prints one JSON line: its own CPU seconds and each participant's received fps.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
import uuid
from typing import Any

import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from media_clients import CLIENT_BITRATE, FPS, HEIGHT, WIDTH, Source, cpu_seconds
from websockets.asyncio.client import ClientConnection, connect

from vidroom.media.encoder import SharedEncoder
from vidroom.media.peer import video_preferences
from vidroom.media.testing import ToneAudioTrack, loopback_ice
from vidroom.media.tracks import PacketTrack, route_keyframe_requests


class Counter:
    """Stands in for a receiver's decode queue: counts whole frames, decodes nothing."""

    def __init__(self, real: Any, person: Person) -> None:
        self.real, self.person = real, person

    def get(self) -> Any:
        """For a decoder thread that started after the swap: it waits for the stop."""
        return self.real.get()

    def put(self, item: Any) -> None:
        if item is None:
            self.real.put(None)
        else:
            self.person.frames += 1


class Person:
    def __init__(self, index: int, encoder: SharedEncoder) -> None:
        self.index = index
        self.frames = 0
        self.video = PacketTrack(encoder.request_keyframe, maxsize=30)
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        sender = self.pc.addTrack(self.video)
        route_keyframe_requests(sender, encoder.request_keyframe)
        for transceiver in self.pc.getTransceivers():
            if transceiver.sender is sender:
                transceiver.setCodecPreferences(video_preferences("H264"))
        self.pc.addTrack(ToneAudioTrack(300 + 20 * index))
        self.pc.createDataChannel("data", negotiated=True, id=0)
        self.pc.on("track", self._on_track)
        self.ws: ClientConnection | None = None
        self.tasks: list[asyncio.Task[None]] = []

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            for transceiver in self.pc.getTransceivers():
                if transceiver.receiver.track is track:
                    name = "_RTCRtpReceiver__decoder_queue"  # aiortc 1.16 (pinned)
                    receiver = transceiver.receiver
                    setattr(receiver, name, Counter(getattr(receiver, name), self))
        self.tasks.append(asyncio.ensure_future(self._drain(track)))

    async def _drain(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()

    async def join(self, http: httpx.AsyncClient, api_key: str, room: str) -> None:
        response = await http.post(
            "/rooms",
            data={"id": room, "user[name]": f"Load {self.index}", "user[id]": f"load{self.index}"},
            headers={"Authorization": api_key},
        )
        response.raise_for_status()
        access_key = response.json()["access_key"]
        while True:
            ready = (await http.get(f"/rooms/{access_key}")).json()
            if ready.get("ready"):
                break
            await asyncio.sleep(0.1)
        options = ready["signaling"]["options"]
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.ws = await connect(f"{options['endpoint']}?auth_token={options['auth_token']}")
        envelope = {
            "type": "call_start",
            "msg_id": str(uuid.uuid4()),
            "from": options["client_id"],
            "to": options["conf_id"],
            "data": {
                "sdp": {"type": "offer", "sdp": self.pc.localDescription.sdp},
                "display_name": f"Load {self.index}",
                "platform": "vidroom-benchmark",
            },
        }
        await self.ws.send(json.dumps(envelope))
        while True:
            message = json.loads(await self.ws.recv())
            if message["type"] == "call_rejected":
                raise RuntimeError(f"call rejected: {message['data']}")
            if message["type"] == "call_accepted":
                break
        answer = message["data"]["sdp"]["sdp"]
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        self.tasks.append(asyncio.ensure_future(self._read()))

    async def _read(self) -> None:
        assert self.ws is not None
        with contextlib.suppress(Exception):
            async for _ in self.ws:
                pass

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def produce(encoder: SharedEncoder, people: list[Person]) -> None:
    source = Source()
    loop = asyncio.get_running_loop()
    start, index = loop.time(), 0
    while True:
        for packet in encoder.encode(source.frame(index), index * 90000 // FPS):
            for person in people:
                person.video.push(packet)
        index += 1
        await asyncio.sleep(max(0.0, start + index / FPS - loop.time()))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    encoder = SharedEncoder((WIDTH, HEIGHT), FPS, bitrate=CLIENT_BITRATE)
    people = [Person(i, encoder) for i in range(args.n)]
    producer = asyncio.ensure_future(produce(encoder, people))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        async with httpx.AsyncClient(base_url=args.url, timeout=60) as http:
            for person in people:
                await person.join(http, args.api_key, args.room)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every participant receives the composite
            if all(p.frames > 0 for p in people):
                break
            await asyncio.sleep(0.1)
        print("ready", flush=True)
        cpu0, frames0, t0 = cpu_seconds("self"), [p.frames for p in people], time.monotonic()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), args.seconds)
        cpu1, t1 = cpu_seconds("self"), time.monotonic()
        fps = [(p.frames - f0) / (t1 - t0) for p, f0 in zip(people, frames0, strict=True)]
    finally:
        producer.cancel()
        await asyncio.gather(producer, return_exceptions=True)
        await asyncio.gather(*(p.close() for p in people), return_exceptions=True)
    return {"window_s": round(t1 - t0, 2), "cpu_s": round(cpu1 - cpu0, 2), "fps": fps}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("-n", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--room", default="load")
    args = parser.parse_args()
    with loopback_ice():  # the server offers 127.0.0.1 (VIDROOM_MEDIA_HOST_ADDRESSES)
        result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
