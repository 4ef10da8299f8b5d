"""One participant's WebRTC connection: their camera/screen/microphone in, the composite and
their audio mix out.

The answer is built so that the room's shared packets fit: the outgoing tracks are added
first, then ``setCodecPreferences`` *before* ``setRemoteDescription`` (aiortc negotiates codecs
there) limits the video transceiver to H.264 (+RTX) when the offer has H.264, else to VP8
(+RTX; Firefox without OpenH264), and the audio transceiver to Opus (the room sends encoded
Opus packets); then the answer is created and set (aiortc gathers ICE candidates inside
``setLocalDescription``). An offer with neither H.264 nor VP8 video, or without Opus audio, is
refused with 406. ICE servers come from the
supervisor's configuration only: never aiortc's default public STUN server.

The first video m-line is the camera; any further video m-line is a screen share, shown
instead of the camera while it delivers frames.

When the offer has an ``m=application`` section, the server side of the clients' negotiated data
channel (``data``, id 0, eyeson-sepp.md §4) is created right after ``setRemoteDescription``.
Once it opens, the peer sends ``{"type":"ping"}`` every ``ping_interval`` seconds (the first at
once); a ``{"type":"pong"}`` counts as a sign of life like media does. ``mute_video`` and
``desktopstreaming`` about the sender itself go to ``on_signal``; other messages are ignored.
Offers without a data channel work as before (no pings, liveness by media only).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import av
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
    sdp,
)
from aiortc.exceptions import OperationError
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability
from aiortc.stats import RTCInboundRtpStreamStats, RTCOutboundRtpStreamStats

from vidroom.kit.token_bucket import TokenBucket
from vidroom.media import bitrate, jitter, receiver, rtp_sender
from vidroom.media.consent import guard_consent
from vidroom.media.contract import MediaError, PeerSpec
from vidroom.media.mixer import MixerInput
from vidroom.media.rtp_sender import FrameTrack
from vidroom.media.tracks import MixTrack, route_keyframe_requests

log = logging.getLogger(__name__)
guard_consent()

jitter.install()
receiver.install()
rtp_sender.install()
bitrate.install()

MAX_SDP = 64 * 1024
SCREEN_FRESH_S = 2.0
CLOSE_S = 10.0  # how long closing a peer connection may take
CHANNEL_LABEL = "data"  # the clients' negotiated data channel (eyeson-sepp.md §4)
CHANNEL_ID = 0
PING = '{"type":"ping"}'  # compact: the web client compares the exact string
MAX_CHANNEL_MESSAGE = 32 * 1024  # larger messages are dropped (the web client does the same)
MAX_CHANNEL_BUFFER = 256 * 1024  # unsent bytes before messages to a stuck client are dropped
CHANNEL_RATE = 20.0  # client messages per second (sustained; twice that in a burst)
# what a client may say about itself on the channel (``{type, on, cid}``) → ``on_signal`` kind
SIGNALS = {
    "mute_video": "mute_video",
    "desktopstreaming": "presenting",
    "set_presenter": "presenting",
}


def dump(message: dict[str, Any]) -> str:
    """A data-channel message: flat, compact JSON."""
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


def voice_message(client_id: str, on: bool) -> str:
    return dump({"type": "voice_activity", "cid": client_id, "on": on})


def parse_message(raw: object) -> dict[str, Any] | None:
    """A client's data-channel message as a JSON object with a string ``type``, or None."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(raw, str) or len(raw) > MAX_CHANNEL_MESSAGE:
        return None
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return None
    return message


def video_preferences(codec: str = "H264") -> list[RTCRtpCodecCapability]:
    """aiortc's capabilities of ``codec`` (H.264: both profile-level-ids) and RTX."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    wanted = [c for c in codecs if c.mimeType.lower() == f"video/{codec.lower()}"]
    rtx = [c for c in codecs if c.mimeType.lower() == "video/rtx"]
    return wanted + rtx


def opus_preferences() -> list[RTCRtpCodecCapability]:
    codecs = RTCRtpSender.getCapabilities("audio").codecs
    return [c for c in codecs if c.mimeType.lower() == "audio/opus"]


def video_codec_of(description: sdp.SessionDescription) -> str:
    """The composite's codec for this offer: H.264 when its first video section has it, else
    VP8 when it has that, else H.264 (the negotiation then fails with 406)."""
    for media in description.media:
        if media.kind == "video":
            names = {codec.name.upper() for codec in media.rtp.codecs}
            if "H264" in names:
                return "H264"
            if "VP8" in names:
                return "VP8"
            break
    return "H264"


def check_offer(offer_sdp: str) -> sdp.SessionDescription:
    """The parsed offer; MediaError(400) for what is not an SDP offer with audio or video."""
    if not isinstance(offer_sdp, str) or not offer_sdp.strip():
        raise MediaError(400, "empty SDP offer")
    if len(offer_sdp) > MAX_SDP:
        raise MediaError(400, "SDP offer too large")
    try:
        description = sdp.SessionDescription.parse(offer_sdp)
    except Exception as exc:  # aiortc's parser raises whatever it trips on
        raise MediaError(400, "malformed SDP offer") from exc
    if not any(m.kind in ("audio", "video") for m in description.media):
        raise MediaError(400, "SDP offer has no audio or video")
    return description


class Peer:
    """A participant's RTCPeerConnection and the media the room reads from it."""

    def __init__(
        self,
        spec: PeerSpec,
        *,
        ice_servers: list[RTCIceServer],
        request_keyframe: Callable[[str], None],
        audio_in: MixerInput,
        on_state: Callable[[Peer, str], None],
        on_signal: Callable[[Peer, str, bool], None] | None = None,
        on_channel_open: Callable[[Peer], None] | None = None,
        ping_interval: float = 5.0,
    ) -> None:
        self.spec = spec
        self.call_id = str(uuid.uuid4())
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=list(ice_servers)))
        self.video_codec = "H264"  # what the composite is sent in (set by ``accept``)
        self.video_out = FrameTrack(self._keyframe)
        self.audio_out = MixTrack()
        self.audio_in = audio_in
        self.camera: av.VideoFrame | None = None
        self.screen: av.VideoFrame | None = None
        self.screen_at = 0.0
        self.last_media = time.monotonic()
        self.last_pong = 0.0  # monotonic time of the last pong (0: none yet)
        self.pongs = 0
        self.channel: RTCDataChannel | None = None
        self.ping_interval = ping_interval
        self.video_muted = False
        self.connected = False
        self.closed = False
        self._request_keyframe = request_keyframe
        self._on_state = on_state
        self._on_signal = on_signal
        self._on_channel_open = on_channel_open
        self._bucket = TokenBucket(CHANNEL_RATE)
        self._camera_transceiver: RTCRtpTransceiver | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_connection_state)

    @property
    def participant_id(self) -> str:
        return self.spec.participant_id

    def picture(self) -> av.VideoFrame | None:
        """What the participant's tile shows now (None: a dark tile with the name)."""
        if self.video_muted:
            return None
        if self.screen is not None and time.monotonic() - self.screen_at < SCREEN_FRESH_S:
            return self.screen
        return self.camera

    @property
    def presenting(self) -> bool:
        return self.screen is not None and time.monotonic() - self.screen_at < SCREEN_FRESH_S

    @property
    def last_heard(self) -> float:
        """When the participant last showed a sign of life: media or a pong."""
        return max(self.last_media, self.last_pong)

    @property
    def channel_open(self) -> bool:
        return self.channel is not None and self.channel.readyState == "open"

    async def accept(self, offer_sdp: str) -> str:
        """Answer the participant's first offer. Raises MediaError 400/406."""
        self.video_codec = video_codec_of(check_offer(offer_sdp))
        audio_sender = self.pc.addTrack(self.audio_out)
        video_sender = self.pc.addTrack(self.video_out)
        route_keyframe_requests(video_sender, self._keyframe)
        for transceiver in self.pc.getTransceivers():
            if transceiver.sender is video_sender:
                transceiver.setCodecPreferences(video_preferences(self.video_codec))
                self._camera_transceiver = transceiver
            elif transceiver.sender is audio_sender:
                transceiver.setCodecPreferences(opus_preferences())
        return await self._answer(offer_sdp)

    def _keyframe(self) -> None:
        """This peer needs a keyframe of its codec (a PLI/FIR, or it just started)."""
        self._request_keyframe(self.video_codec)

    async def renegotiate(self, offer_sdp: str) -> str:
        """Answer a later offer (e.g. a screen share added)."""
        check_offer(offer_sdp)
        return await self._answer(offer_sdp)

    async def _answer(self, offer_sdp: str) -> str:
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except OperationError as exc:
            raise MediaError(
                406, "no usable codec in the offer (video: H.264 or VP8; audio: Opus)"
            ) from exc
        except Exception as exc:
            raise MediaError(400, f"unusable SDP offer: {exc}"[:200]) from exc
        if self.channel is None and self.pc.sctp is not None:  # the offer has m=application
            self._open_channel()
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return self.pc.localDescription.sdp

    # -- the data channel --------------------------------------------------------------

    def _open_channel(self) -> None:
        channel = self.pc.createDataChannel(CHANNEL_LABEL, negotiated=True, id=CHANNEL_ID)
        self.channel = channel
        channel.on("open", self._channel_opened)
        channel.on("message", self._channel_message)
        if channel.readyState == "open":  # the association was up already (a renegotiation)
            self._channel_opened()

    def _channel_opened(self) -> None:
        if self.closed:
            return
        self._spawn(self._ping())
        if self._on_channel_open is not None:
            self._on_channel_open(self)

    async def _ping(self) -> None:
        while self.channel_open:
            self.send(PING)
            await asyncio.sleep(self.ping_interval)

    def send(self, text: str) -> bool:
        """Send a message on the data channel; False when it is not open (or the client does
        not read what was sent before)."""
        channel = self.channel
        if channel is None or channel.readyState != "open" or self.closed:
            return False
        if channel.bufferedAmount > MAX_CHANNEL_BUFFER:
            return False
        try:
            channel.send(text)
        except Exception:  # closing under us
            return False
        return True

    def _channel_message(self, raw: object) -> None:
        if self.closed or not self._within_rate():
            return
        message = parse_message(raw)
        if message is None:
            log.debug("ignored a malformed data-channel message from %s", self.participant_id)
            return
        kind = message["type"]
        if kind == "pong":
            self.pongs += 1
            self.last_pong = time.monotonic()
        elif kind == "ping":
            self.send('{"type":"pong"}')
        elif kind in SIGNALS and self._on_signal is not None:
            on, cid = message.get("on"), message.get("cid")
            if isinstance(on, bool) and cid in (None, "", self.spec.client_id):
                self._on_signal(self, SIGNALS[kind], on)

    def _within_rate(self) -> bool:
        return self._bucket.take()

    # -- media -------------------------------------------------------------------------

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._spawn(self._consume_audio(track))
        elif self._camera_transceiver and track is self._camera_transceiver.receiver.track:
            self._spawn(self._consume_video(track, screen=False))
        else:
            self._spawn(self._consume_video(track, screen=True))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _consume_video(self, track: MediaStreamTrack, *, screen: bool) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            if not isinstance(frame, av.VideoFrame):
                continue
            now = time.monotonic()
            self.last_media = now
            if screen:
                self.screen, self.screen_at = frame, now
            else:
                self.camera = frame
        if screen:
            self.screen = None

    async def _consume_audio(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            if isinstance(frame, av.AudioFrame):
                self.last_media = time.monotonic()
                try:
                    self.audio_in.push(frame)
                except (ValueError, av.FFmpegError):
                    log.debug("dropped an unusable audio frame from %s", self.participant_id)

    def _on_connection_state(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self.connected = True
        self._on_state(self, state)

    async def packets(self) -> tuple[int, int]:
        """RTP packets received from and sent to this peer so far (aiortc's stats)."""
        received = sent = 0
        for transceiver in self.pc.getTransceivers():
            for stats in (await transceiver.receiver.getStats()).values():
                if isinstance(stats, RTCInboundRtpStreamStats):
                    received += stats.packetsReceived
            for stats in (await transceiver.sender.getStats()).values():
                if isinstance(stats, RTCOutboundRtpStreamStats):
                    sent += stats.packetsSent
        return received, sent

    async def close(self) -> None:
        """Close the connection and stop reading its media (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.video_out.stop()
        self.audio_out.stop()
        try:
            # bounded: aiortc's sender.stop() waits for its RTP task to have started, which a
            # task cancelled before it ran never does
            async with asyncio.timeout(CLOSE_S):
                await self.pc.close()
        except Exception:  # a half-set-up connection, or a stop that never ends
            log.debug("closing %s's connection failed", self.participant_id, exc_info=True)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
