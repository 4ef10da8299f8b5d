"""The shared packet path (packetize once, FanoutSender per peer) and the tile bitrate limits:
a newcomer, a PLI and lost packets still give every receiver a clean picture, and each
participant's sender learns the bitrate its tile needs through REMB."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiortc.rtcpeerconnection
import aiortc.rtcrtpreceiver
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.codecs.h264 import MIN_BITRATE as AIORTC_H264_MIN
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtpPacket,
    is_rtcp,
    unpack_remb_fci,
)

from tests.media.conftest import Client, until
from tests.media.test_call import BLUE, GREEN, RED, YELLOW, sees_everyone
from tests.media.test_keyframes import video_receiver
from vidroom.media import rtp_sender
from vidroom.media.bitrate import CappedEstimator, tile_bitrate
from vidroom.media.packetizer import EncodedFrame
from vidroom.media.rtp_sender import MAX_BUFFERED, FanoutSender, FrameTrack
from vidroom.media.supervisor import MediaSupervisor

MakeClient = Callable[[str, tuple[int, int, int], float], Client]


def fanout(supervisor: MediaSupervisor, meeting: str, name: str) -> FanoutSender:
    peer = supervisor.rooms[meeting].peers[name]
    sender = peer.video_out.sender
    assert isinstance(sender, FanoutSender)
    return sender


def video_sender(client: Client) -> RTCRtpSender:
    return next(t.sender for t in client.pc.getTransceivers() if t.kind == "video")


def record_remb(sender: RTCRtpSender) -> list[int]:
    """Bitrates of the REMB packets ``sender`` receives (aiortc's handler still runs)."""
    seen: list[int] = []
    handle = sender._handle_rtcp_packet

    async def recording(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
            if sender._ssrc in ssrcs:
                seen.append(bitrate)
        await handle(packet)

    sender._handle_rtcp_packet = recording  # type: ignore[method-assign]
    return seen


def encoder_target(sender: RTCRtpSender) -> int | None:
    encoder: Any = getattr(sender, "_RTCRtpSender__encoder", None)
    return None if encoder is None else int(encoder.target_bitrate)


async def test_every_peer_gets_a_fanout_sender_and_a_newcomer_starts_clean(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "fan")
    await b.join(supervisor, "fan")
    assert await until(lambda: all(sees_everyone(c, supervisor, "fan", [a, b]) for c in (a, b)), 5)
    c = clients("c", BLUE, 1300)
    await c.join(supervisor, "fan")  # mid-meeting: the stream is long past its keyframe
    everyone = [a, b, c]
    assert await until(
        lambda: all(sees_everyone(x, supervisor, "fan", everyone) for x in everyone), 5
    )
    senders = [fanout(supervisor, "fan", name) for name in ("a", "b", "c")]
    assert all(s.packets_sent > 0 for s in senders)
    assert fanout(supervisor, "fan", "c").keyframe_requests == 0  # no PLI: it decoded cleanly
    stats = await senders[2].getStats()
    outbound = [s for s in stats.values() if s.type == "outbound-rtp"]
    assert outbound
    assert outbound[0].packetsSent > 0
    # sender reports reach the receivers: their RTT estimate needs the SR's timestamps
    assert await until(lambda: senders[0].rtt is not None, 5)


async def test_a_pli_forces_a_shared_keyframe_and_pictures_stay_clean(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "pli")
    await b.join(supervisor, "pli")
    assert await until(lambda: all(sees_everyone(c, supervisor, "pli", [a, b]) for c in (a, b)), 5)
    encoder = supervisor.rooms["pli"].renditions.encoder("H264")
    assert encoder is not None
    await asyncio.sleep(encoder.min_keyframe_interval + 0.1)
    forced = encoder.forced
    sender = fanout(supervisor, "pli", "a")
    requests = sender.keyframe_requests
    receiver = video_receiver(a)
    await receiver._send_rtcp_pli(receiver.getSynchronizationSources()[0].source)
    assert await until(lambda: encoder.forced > forced, 2)
    assert sender.keyframe_requests == requests + 1
    frames = (a.frames, b.frames)
    assert await until(lambda: a.frames > frames[0] + 5 and b.frames > frames[1] + 5, 3)
    assert all(sees_everyone(c, supervisor, "pli", [a, b]) for c in (a, b))


class Relay:
    """A UDP relay on 127.0.0.1 between one client and the server that drops every
    ``drop_every``-th SRTP packet the server sends while :attr:`dropping` (STUN and DTLS
    always pass). The client is told the relay's port ``a`` for the server, the server the
    relay's port ``b`` for the client."""

    def __init__(self, drop_every: int) -> None:
        self.drop_every = drop_every
        self.dropping = False
        self.dropped = 0
        self._count = 0
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        self._a: asyncio.DatagramTransport | None = None
        self._b: asyncio.DatagramTransport | None = None

    async def start(self) -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        self._a, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_client), local_addr=("127.0.0.1", 0)
        )
        self._b, _ = await loop.create_datagram_endpoint(
            lambda: _Side(self._from_server), local_addr=("127.0.0.1", 0)
        )
        return self._a.get_extra_info("sockname")[1], self._b.get_extra_info("sockname")[1]

    def _from_client(self, data: bytes) -> None:
        if self._b is not None and self.server is not None:
            self._b.sendto(data, self.server)

    def _from_server(self, data: bytes) -> None:
        if self._a is None or self.client is None:
            return
        if self.dropping and 127 < data[0] < 192 and not is_rtcp(data):
            self._count += 1
            if self._count % self.drop_every == 0:
                self.dropped += 1
                return
        self._a.sendto(data, self.client)

    def close(self) -> None:
        for transport in (self._a, self._b):
            if transport is not None:
                transport.close()


class _Side(asyncio.DatagramProtocol):
    def __init__(self, forward: Callable[[bytes], None]) -> None:
        self.forward = forward

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.forward(data)


def port_of(sdp: str) -> int:
    match = re.search(r"a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host", sdp)
    assert match is not None, sdp
    return int(match.group(1))


async def test_lost_packets_are_repaired_and_the_picture_stays_clean(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a = clients("a", RED, 500)
    lossy = clients("lossy", YELLOW, 900)
    # one transport (max-bundle), so that one relay carries the whole call
    lossy.pc = RTCPeerConnection(
        RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
    )
    lossy.pc.addTrack(lossy.audio)
    lossy.pc.addTrack(lossy.video)
    lossy.pc.on("track", lossy._on_track)
    relay = Relay(drop_every=7)
    port_a, port_b = await relay.start()
    try:
        await a.join(supervisor, "loss")
        offer = await lossy.offer()
        client_port = port_of(offer)
        relay.client = ("127.0.0.1", client_port)
        offer = offer.replace(f"127.0.0.1 {client_port} ", f"127.0.0.1 {port_b} ")
        answer = await supervisor.join("loss", lossy.spec, offer)
        server_port = port_of(answer.sdp)
        relay.server = ("127.0.0.1", server_port)
        sdp = answer.sdp.replace(f"127.0.0.1 {server_port} ", f"127.0.0.1 {port_a} ")
        await lossy.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        both = [a, lossy]
        assert await until(lambda: sees_everyone(lossy, supervisor, "loss", both), 8)

        sender = fanout(supervisor, "loss", "lossy")
        relay.dropping = True
        assert await until(lambda: relay.dropped >= 20, 10)
        relay.dropping = False
        assert sender.retransmitted > 0  # NACKs answered from the history (RTX)
        frames = lossy.frames
        assert await until(lambda: lossy.frames > frames + 10, 5)
        # the picture is whole again: every tile shows its colour
        assert await until(lambda: sees_everyone(lossy, supervisor, "loss", both), 5)
        assert sees_everyone(a, supervisor, "loss", both)
    finally:
        relay.close()


async def test_remb_from_the_server_limits_each_sender_to_its_tile(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    seen = record_remb(video_sender(a))
    await a.join(supervisor, "remb")
    await b.join(supervisor, "remb")
    assert await until(lambda: all(sees_everyone(c, supervisor, "remb", [a, b]) for c in (a, b)), 5)
    two = tile_bitrate(640, 960, 15)  # 2x1 grid on 1280x960
    assert await until(lambda: bool(seen) and seen[-1] <= two, 5), seen
    assert await until(lambda: (encoder_target(video_sender(a)) or two + 1) <= two, 3)

    # a third and a fourth participant: 2x2 grid, 640x480 tiles, a lower limit at once
    for name, rgb, hz in (("c", BLUE, 1300), ("d", YELLOW, 1700)):
        await clients(name, rgb, hz).join(supervisor, "remb")
    four = tile_bitrate(640, 480, 15)
    assert four < two
    count = len(seen)
    assert await until(lambda: len(seen) > count and seen[-1] <= four, 5), seen
    # aiortc's H.264 encoder clamps its target at 500 kbit/s
    assert await until(lambda: encoder_target(video_sender(a)) == max(four, AIORTC_H264_MIN), 3), (
        encoder_target(video_sender(a))
    )


def test_the_aiortc_hooks_are_installed() -> None:
    assert vars(aiortc.rtcpeerconnection)["RTCRtpSender"] is rtp_sender._make_sender
    assert vars(aiortc.rtcrtpreceiver)["RemoteBitrateEstimator"] is CappedEstimator


def test_tile_bitrate_follows_the_area_and_is_clamped() -> None:
    assert tile_bitrate(320, 240, 15) == 115_200
    assert tile_bitrate(640, 480, 15) == 4 * 115_200
    assert tile_bitrate(64, 36, 15) == 100_000
    assert tile_bitrate(1920, 1080, 30) == 2_500_000


class _FakeDatagrams:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.buffered = 0

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append(data)


class _FakeSrtp:
    def protect(self, data: bytes) -> bytes:
        return data  # plaintext: the test reads the packets back


def _fake_transport(datagrams: _FakeDatagrams) -> Any:
    pair = SimpleNamespace(protocol=SimpleNamespace(transport=datagrams), remote_addr=("x", 1))
    connection = SimpleNamespace(_nominated={1: pair})
    return SimpleNamespace(
        state="connected",
        transport=SimpleNamespace(_connection=connection),
        _tx_srtp=_FakeSrtp(),
    )


async def test_fanout_sender_stamps_shared_payloads_and_drops_to_a_keyframe_on_backlog() -> None:
    requests: list[int] = []
    datagrams = _FakeDatagrams()
    track = FrameTrack(lambda: requests.append(1))
    sender = FanoutSender(track, _fake_transport(datagrams))
    sender._running = True  # what ``send`` does once the connection is up
    sender._payload_type = 102

    def frame(ts: int, key: bool, count: int = 3) -> EncodedFrame:
        return EncodedFrame("H264", ts, tuple(bytes([ts % 256, i]) * 50 for i in range(count)), key)

    track.push(frame(0, False))  # a newcomer waits for a keyframe
    assert datagrams.sent == []
    key = frame(3000, True)
    track.push(key)
    track.push(frame(6000, False, count=2))
    packets = [RtpPacket.parse(data) for data in datagrams.sent]
    assert [p.payload for p in packets] == [*key.payloads, *frame(6000, False, 2).payloads]
    assert [p.marker for p in packets] == [0, 0, 1, 0, 1]
    first = packets[0].sequence_number
    assert [p.sequence_number for p in packets] == [(first + i) & 0xFFFF for i in range(5)]
    assert {p.ssrc for p in packets} == {sender._ssrc}
    assert {p.payload_type for p in packets} == {102}
    assert (packets[3].timestamp - packets[0].timestamp) & 0xFFFFFFFF == 3000
    assert sender.packets_sent == 5

    datagrams.buffered = MAX_BUFFERED + 1  # the peer's socket backs up: drop, ask for a keyframe
    asked = len(requests)
    track.push(frame(9000, False))
    assert len(requests) == asked + 1
    datagrams.buffered = 0
    track.push(frame(12000, False))  # still waiting for the keyframe
    assert len(datagrams.sent) == 5
    assert track.dropped == 2
    track.push(frame(15000, True))
    assert len(datagrams.sent) == 8
    assert RtpPacket.parse(datagrams.sent[5]).sequence_number == (first + 5) & 0xFFFF
    track.stop()
