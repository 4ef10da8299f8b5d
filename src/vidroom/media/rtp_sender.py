"""A lean per-peer RTP sender for the shared composite: stamp, protect, send, in one pass.

The room packetizes each composite frame once per codec (:mod:`vidroom.media.packetizer`).
For every peer, :meth:`FanoutSender.send_frame` then runs synchronously in the room's video
tick, once per frame: it serialises one RTP header per frame with aiortc's own
``RtpPacket.serialize`` (the peer's SSRC, timestamp origin, ``mid`` and ``abs-send-time``
header extensions under the peer's negotiated ids), and for each payload only writes the
marker bit and sequence number into that header, protects the packet with the peer's SRTP
session and hands it to the selected ICE pair's datagram transport. No ``RtpPacket`` object,
no coroutine and no await per packet, where aiortc's ``RTCRtpSender._run_rtp`` has a task per
peer that wakes per frame and awaits three coroutines per packet.

Everything else a sender does is kept: the RTP history for NACKs (retransmitted as RTX when
negotiated), PLI/FIR → ``_send_keyframe`` (which :func:`~vidroom.media.tracks.
route_keyframe_requests` points at the shared encoder; by default it asks the track's
``request_keyframe``), the REMB the receiver sends (kept in :attr:`FanoutSender.remb`), round
trip times from receiver reports, sender reports + SDES every 0.5-1.5 s, a BYE at the end,
and ``getStats`` (``outbound-rtp`` with packets and bytes sent, ``remote-inbound-rtp``). A
new sender starts on a keyframe (and asks for one); when the peer's socket buffer backs up
beyond :data:`MAX_BUFFERED` bytes, frames are dropped up to the next keyframe.

:func:`install` makes ``RTCPeerConnection`` build a :class:`FanoutSender` for a
:class:`FrameTrack` (every other track keeps aiortc's ``RTCRtpSender``).

aiortc internals this relies on (aiortc pinned ``<1.17``; ``tests/media`` checks them):

- ``aiortc.rtcpeerconnection.RTCRtpSender``: the name ``RTCPeerConnection`` builds senders
  with, replaced by :func:`install`;
- ``RTCRtpSender.send`` / ``stop`` / ``_handle_rtcp_packet`` / ``_send_keyframe`` /
  ``_send_rtcp`` and the ``_ssrc``, ``_rtx_ssrc``, ``_enabled`` attributes, overridden or used
  as ``RTCRtpSender`` itself does (the base class's ``_run_rtp``/``_run_rtcp`` never start);
- ``RTCDtlsTransport._tx_srtp`` (the pylibsrtp session), ``_send_rtp``,
  ``_register_rtp_sender`` / ``_unregister_rtp_sender`` and ``state``;
- aioice: ``RTCIceTransport._connection._nominated[1]`` (the selected candidate pair) and its
  ``protocol.transport.sendto`` / ``remote_addr`` — what ``Connection.send`` ends in, for host,
  server-reflexive and TURN-relayed pairs alike.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable
from struct import pack
from typing import Any

import aiortc.rtcpeerconnection
import av
import pylibsrtp
from aiortc import RTCRtpSender, clock
from aiortc.codecs import is_rtx
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpparameters import RTCRtpSendParameters
from aiortc.rtcrtpsender import random_sequence_number
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RTP_HISTORY_SIZE,
    AnyRtcpPacket,
    HeaderExtensionsMap,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    RtpPacket,
    unpack_remb_fci,
    wrap_rtx,
)
from aiortc.stats import (
    RTCOutboundRtpStreamStats,
    RTCRemoteInboundRtpStreamStats,
    RTCStatsReport,
)
from aiortc.utils import random32, uint16_add

from vidroom.media.packetizer import EncodedFrame, Packetizer

log = logging.getLogger(__name__)

MAX_BUFFERED = 512 * 1024  # bytes queued in the peer's datagram transport before frames drop
RTT_ALPHA = 0.85  # as aiortc's sender smooths round trip times


class FrameTrack(MediaStreamTrack):
    """The composite for one peer, as shared :class:`EncodedFrame` objects pushed by the room.

    Its sender (a :class:`FanoutSender`, attached when the connection builds it) sends each
    pushed frame at once; the track itself delivers nothing through ``recv``."""

    kind = "video"

    def __init__(self, request_keyframe: Callable[[], None]) -> None:
        super().__init__()
        self.request_keyframe = request_keyframe
        self.sender: FanoutSender | None = None
        self.dropped = 0  # frames not sent because the peer's socket backed up (and after)
        self._ended = asyncio.Event()

    def push(self, frame: EncodedFrame | av.Packet[Any]) -> None:
        """Send one frame to the peer now (event loop thread). An ``av.Packet`` (one peer's
        own encode, as ``benchmarks/media_server.py --mode per-peer`` does) is packetized for
        this peer alone first."""
        sender = self.sender
        if sender is None or self.readyState != "live":
            return
        if isinstance(frame, EncodedFrame):
            sender.send_frame(frame)
        else:
            sender.send_packet(frame)

    async def recv(self) -> Any:
        await self._ended.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._ended.set()


class FanoutSender(RTCRtpSender):
    """An ``RTCRtpSender`` for a :class:`FrameTrack` (see the module docstring)."""

    def __init__(self, track: FrameTrack, transport: RTCDtlsTransport) -> None:
        super().__init__(track, transport)
        self.frames = track
        track.sender = self
        self.remb: int | None = None  # the receiver's last bitrate estimate (REMB), bit/s
        self.rtt: float | None = None  # seconds
        self.packets_sent = 0
        self.octets_sent = 0  # payload bytes, as RTCP sender reports count them
        self.retransmitted = 0
        self.keyframe_requests = 0  # PLI/FIR received
        self._running = False
        self._payload_type = 0
        self._rtx_payload_type: int | None = None
        self._mid: str | None = None
        self._cname: str | None = None
        self._extensions = HeaderExtensionsMap()
        self._sequence = random_sequence_number()
        self._rtx_sequence = random_sequence_number()
        self._origin = random32()
        self._waiting_keyframe = True
        self._recovering = False  # waiting for a keyframe after frames were dropped
        self._history: list[tuple[int, bytes] | None] = [None] * RTP_HISTORY_SIZE
        self._last_ntp = 0
        self._last_timestamp = 0
        self._lsr: int | None = None
        self._lsr_time = 0.0
        self._report: RTCRemoteInboundRtpStreamStats | None = None
        self._reports: asyncio.Task[None] | None = None
        self._packetizer: Packetizer | None = None  # for ``send_packet`` only

    # -- aiortc's sender API -----------------------------------------------------------

    async def send(self, parameters: RTCRtpSendParameters) -> None:
        if self._running or self._reports is not None:
            return
        codec = parameters.codecs[0]
        assert codec.payloadType is not None  # negotiated codecs always have one
        if codec.name.upper() in ("H264", "VP8"):
            self._packetizer = Packetizer(codec.name.upper())
        self._payload_type = codec.payloadType
        for other in parameters.codecs:
            if is_rtx(other) and other.parameters.get("apt") == codec.payloadType:
                self._rtx_payload_type = other.payloadType
                break
        self._mid = parameters.muxId
        self._cname = parameters.rtcp.cname
        self._extensions.configure(parameters)
        self.transport._register_rtp_sender(self, parameters)
        self._running = True
        self._reports = asyncio.ensure_future(self._run_reports())
        self._send_keyframe()  # a newcomer starts on a keyframe

    async def stop(self) -> None:
        if self._reports is not None and self._running:
            self._running = False
            self.transport._unregister_rtp_sender(self)
            self._reports.cancel()
            await asyncio.gather(self._reports, return_exceptions=True)
        self._running = False
        self.frames.stop()

    def _send_keyframe(self) -> None:
        self.frames.request_keyframe()

    async def getStats(self) -> RTCStatsReport:
        report = RTCStatsReport()
        report.add(
            RTCOutboundRtpStreamStats(
                timestamp=clock.current_datetime(),
                type="outbound-rtp",
                id=f"outbound-rtp_{id(self)}",
                ssrc=self._ssrc,
                kind=self.kind,
                transportId=self.transport._stats_id,
                packetsSent=self.packets_sent,
                bytesSent=self.octets_sent,
                trackId=str(id(self.frames)),
            )
        )
        if self._report is not None:
            report.add(self._report)
        report.update(self.transport._get_stats())
        return report

    # -- sending -----------------------------------------------------------------------

    def send_packet(self, packet: av.Packet[Any]) -> bool:
        """Packetize a packet for this peer alone and send it (see ``FrameTrack.push``)."""
        frame = self._packetizer.packetize(packet) if self._packetizer is not None else None
        return frame is not None and self.send_frame(frame)

    def send_frame(self, frame: EncodedFrame) -> bool:
        """Send one frame's packets now; False when it was not sent (not connected yet,
        disabled, waiting for a keyframe, or dropped because the socket backed up)."""
        dtls = self.transport
        if not self._running or not self._enabled or dtls.state != "connected":
            return False
        pair = dtls.transport._connection._nominated.get(1)
        if pair is None:
            return False
        datagrams = pair.protocol.transport
        if _buffered(datagrams) > MAX_BUFFERED:
            self.frames.dropped += 1
            if not self._recovering:
                self._waiting_keyframe = self._recovering = True
                self._send_keyframe()
            return False
        if self._waiting_keyframe:
            if not frame.keyframe:
                self.frames.dropped += self._recovering
                return False
            self._waiting_keyframe = self._recovering = False
        timestamp = (self._origin + frame.timestamp) & 0xFFFFFFFF
        header = RtpPacket(payload_type=self._payload_type, timestamp=timestamp, ssrc=self._ssrc)
        header.extensions.abs_send_time = (clock.current_ntp_time() >> 14) & 0x00FFFFFF
        header.extensions.mid = self._mid
        template = header.serialize(self._extensions)
        first, rest = template[0], template[4:]
        last = len(frame.payloads) - 1
        sequence, history = self._sequence, self._history
        protect, sendto, addr = dtls._tx_srtp.protect, datagrams.sendto, pair.remote_addr
        octets = 0
        try:
            for index, payload in enumerate(frame.payloads):
                marker = 0x80 if index == last else 0
                data = pack("!BBH", first, marker | self._payload_type, sequence) + rest + payload
                history[sequence % RTP_HISTORY_SIZE] = (sequence, data)
                sendto(protect(data), addr)
                octets += len(payload)
                sequence = (sequence + 1) & 0xFFFF
        except (pylibsrtp.Error, OSError) as exc:  # a closing transport
            log.debug("sending a frame failed: %s", exc)
        sent = (sequence - self._sequence) & 0xFFFF
        self._sequence = sequence
        self.packets_sent += sent
        self.octets_sent += octets
        self._last_ntp = clock.current_ntp_time()
        self._last_timestamp = timestamp
        return sent > 0

    async def _retransmit(self, sequence_number: int) -> None:
        entry = self._history[sequence_number % RTP_HISTORY_SIZE]
        if entry is None or entry[0] != sequence_number:
            return
        data = entry[1]
        if self._rtx_payload_type is not None:
            packet = wrap_rtx(
                RtpPacket.parse(data, self._extensions),
                payload_type=self._rtx_payload_type,
                sequence_number=self._rtx_sequence,
                ssrc=self._rtx_ssrc,
            )
            self._rtx_sequence = uint16_add(self._rtx_sequence, 1)
            data = packet.serialize(self._extensions)
        try:
            await self.transport._send_rtp(data)
        except ConnectionError:
            return
        self.retransmitted += 1

    # -- RTCP --------------------------------------------------------------------------

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRrPacket | RtcpSrPacket):
            for report in packet.reports:
                if report.ssrc == self._ssrc:
                    self._receiver_report(packet.ssrc, report.lsr, report.dlsr, report)
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            for sequence_number in packet.lost:
                await self._retransmit(sequence_number)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt in (RTCP_PSFB_FIR, RTCP_PSFB_PLI):
            self.keyframe_requests += 1
            self._send_keyframe()
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            if self._ssrc in ssrcs:
                self.remb = bitrate

    def _receiver_report(self, ssrc: int, lsr: int, dlsr: int, report: Any) -> None:
        if self._lsr == lsr and dlsr:
            rtt = time.time() - self._lsr_time - dlsr / 65536
            self.rtt = rtt if self.rtt is None else RTT_ALPHA * self.rtt + (1 - RTT_ALPHA) * rtt
        self._report = RTCRemoteInboundRtpStreamStats(
            timestamp=clock.current_datetime(),
            type="remote-inbound-rtp",
            id=f"remote-inbound-rtp_{id(self)}",
            ssrc=ssrc,
            kind=self.kind,
            transportId=self.transport._stats_id,
            packetsReceived=self.packets_sent - report.packets_lost,
            packetsLost=report.packets_lost,
            jitter=report.jitter,
            roundTripTime=self.rtt if self.rtt is not None else 0.0,
            fractionLost=report.fraction_lost,
        )

    async def _run_reports(self) -> None:
        """Sender reports and SDES every 0.5-1.5 s (as aiortc's), a BYE at the end."""
        try:
            while True:
                await asyncio.sleep(0.5 + random.random())
                packets: list[AnyRtcpPacket] = [
                    RtcpSrPacket(
                        ssrc=self._ssrc,
                        sender_info=RtcpSenderInfo(
                            ntp_timestamp=self._last_ntp,
                            rtp_timestamp=self._last_timestamp,
                            packet_count=self.packets_sent & 0xFFFFFFFF,
                            octet_count=self.octets_sent & 0xFFFFFFFF,
                        ),
                    )
                ]
                self._lsr = (self._last_ntp >> 16) & 0xFFFFFFFF
                self._lsr_time = time.time()
                if self._cname is not None:
                    item = (1, self._cname.encode("utf8"))
                    packets.append(
                        RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=self._ssrc, items=[item])])
                    )
                await self._send_rtcp(packets)
        except asyncio.CancelledError:
            pass
        await self._send_rtcp([RtcpByePacket(sources=[self._ssrc])])


def _buffered(transport: object) -> int:
    """Bytes waiting in a datagram transport (asyncio's have ``get_write_buffer_size``;
    aioice's ``TurnTransport`` has none)."""
    size = getattr(transport, "get_write_buffer_size", None)
    return int(size()) if callable(size) else 0


def _make_sender(
    trackOrKind: MediaStreamTrack | str,
    transport: RTCDtlsTransport,
) -> RTCRtpSender:
    if isinstance(trackOrKind, FrameTrack):
        return FanoutSender(trackOrKind, transport)
    return RTCRtpSender(trackOrKind, transport)


def install() -> None:
    """Make ``RTCPeerConnection`` build a :class:`FanoutSender` for every :class:`FrameTrack`."""
    module: Any = aiortc.rtcpeerconnection
    current = getattr(module, "RTCRtpSender", None)
    if current is _make_sender:
        return
    if current is not RTCRtpSender:
        raise RuntimeError("aiortc.rtcpeerconnection.RTCRtpSender changed: check the aiortc pin")
    module.RTCRtpSender = _make_sender
