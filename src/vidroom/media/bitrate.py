"""Ask each participant to send only what their tile in the composite needs, with REMB.

A 16-tile grid draws 320x240 tiles, yet every camera would be sent at whatever the network
allows. :func:`tile_bitrate` turns a tile's area into a bitrate (:data:`BITS_PER_PIXEL` per
pixel per composite frame, clamped to :data:`MIN_BITRATE`-:data:`MAX_BITRATE`), and
:func:`limit_senders` tells each participant's sender with a REMB from the server, whenever
the layout changes (the room calls it). The receiver's own estimate still applies when it is
lower: aiortc's receive-side estimator (``RemoteBitrateEstimator``, which sends REMB about
every 0.5 s while media with ``abs-send-time`` arrives) is replaced by
:class:`CappedEstimator`, which caps what it reports at the tile's bitrate; a layout change
sends ``min(cap, last estimate)`` at once.

aiortc internals this relies on (pinned ``<1.17``; ``tests/media`` checks them):
``aiortc.rtcrtpreceiver.RemoteBitrateEstimator`` (the name receivers build their estimator
with, swapped by :func:`install`), a video receiver's ``_RTCRtpReceiver__remote_bitrate_
estimator`` attribute, ``RTCRtpReceiver._send_rtcp`` (it swallows ``ConnectionError``), the
estimator's ``ssrcs`` dict and the transceiver's ``sender._ssrc`` as the REMB's sender SSRC
(what aiortc's receiver uses).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Protocol

import aiortc.rtcrtpreceiver
from aiortc import RTCPeerConnection, RTCRtpReceiver
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, pack_remb_fci

from vidroom.media.contract import Tile

log = logging.getLogger(__name__)

BITS_PER_PIXEL = 0.1  # per pixel per frame: ~115 kbit/s for a 320x240 tile at 15 fps
MIN_BITRATE = 100_000
MAX_BITRATE = 2_500_000


def tile_bitrate(width: int, height: int, fps: int) -> int:
    """What a tile of ``width`` x ``height`` shown at ``fps`` needs, bit/s (clamped)."""
    wanted = int(BITS_PER_PIXEL * width * height * fps)
    return max(MIN_BITRATE, min(MAX_BITRATE, wanted))


class CappedEstimator(RemoteBitrateEstimator):
    """aiortc's REMB estimator, reporting at most :attr:`cap` (None: no cap)."""

    def __init__(self) -> None:
        super().__init__()
        self.cap: int | None = None
        self.estimate: int | None = None  # the last uncapped estimate, bit/s

    def add(
        self, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
    ) -> tuple[int, list[int]] | None:
        result = super().add(arrival_time_ms, abs_send_time, payload_size, ssrc)
        if result is None:
            return None
        bitrate, ssrcs = result
        self.estimate = bitrate
        return (bitrate if self.cap is None else min(bitrate, self.cap)), ssrcs


def estimator_of(receiver: RTCRtpReceiver) -> CappedEstimator | None:
    estimator = getattr(receiver, "_RTCRtpReceiver__remote_bitrate_estimator", None)
    return estimator if isinstance(estimator, CappedEstimator) else None


async def limit(pc: RTCPeerConnection, bitrate: int) -> int:
    """Cap what ``pc``'s remote side sends on each of its video streams at ``bitrate`` and
    tell it now (when the stream's SSRCs are known). Returns the REMBs sent."""
    sent = 0
    for transceiver in pc.getTransceivers():
        if transceiver.kind != "video":
            continue
        receiver = transceiver.receiver
        estimator = estimator_of(receiver)
        if estimator is None:
            continue
        estimator.cap = bitrate
        ssrcs = set(estimator.ssrcs) | {s.source for s in receiver.getSynchronizationSources()}
        if not ssrcs:
            continue  # no media yet: the estimator's first report carries the cap
        value = bitrate if estimator.estimate is None else min(bitrate, estimator.estimate)
        packet = RtcpPsfbPacket(
            fmt=RTCP_PSFB_APP,
            ssrc=transceiver.sender._ssrc,
            media_ssrc=0,
            fci=pack_remb_fci(value, sorted(ssrcs)),
        )
        await receiver._send_rtcp(packet)
        sent += 1
    return sent


class Limited(Protocol):
    """What :func:`limit_senders` needs of a peer (``vidroom.media.peer.Peer``)."""

    @property
    def pc(self) -> RTCPeerConnection: ...
    @property
    def spec(self) -> Any: ...


async def limit_senders(peers: Iterable[Limited], tiles: list[Tile], fps: int) -> None:
    """Cap each peer's video at what its tile needs (a peer without a tile: untouched)."""
    by_client = {tile.client_id: tile for tile in tiles}
    for peer in list(peers):
        tile = by_client.get(peer.spec.client_id)
        if tile is None:
            continue
        try:
            await limit(peer.pc, tile_bitrate(tile.width, tile.height, fps))
        except Exception:  # a connection closing under us
            log.debug("could not limit %s's video", peer.spec.client_id, exc_info=True)


_installed = False


def install() -> None:
    """Build every aiortc receiver's estimator as a :class:`CappedEstimator` from now on."""
    global _installed
    if _installed:
        return
    module: Any = aiortc.rtcrtpreceiver
    if getattr(module, "RemoteBitrateEstimator", None) is not RemoteBitrateEstimator:
        raise RuntimeError("aiortc.rtcrtpreceiver.RemoteBitrateEstimator changed: check the pin")
    module.RemoteBitrateEstimator = CappedEstimator
    _installed = True
