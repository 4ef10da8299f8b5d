"""One participant's WebRTC connection: their camera/screen/microphone in, the composite and
their audio mix out.

The answer is built so that the shared H.264 packets fit: the outgoing tracks are added
first, the video transceiver is limited to H.264 (+RTX) with ``setCodecPreferences`` *before*
``setRemoteDescription`` (aiortc negotiates codecs there), then the answer is created and set
(aiortc gathers ICE candidates inside ``setLocalDescription``). ICE servers come from the
supervisor's configuration only: never aiortc's default public STUN server.

The first video m-line is the camera; any further video m-line is a screen share, shown
instead of the camera while it delivers frames.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import av
from aiortc import (
    RTCConfiguration,
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

from vidroom.media import jitter
from vidroom.media.contract import MediaError, PeerSpec
from vidroom.media.mixer import MixerInput
from vidroom.media.tracks import MixTrack, PacketTrack, route_keyframe_requests

log = logging.getLogger(__name__)

jitter.install()

MAX_SDP = 64 * 1024
SCREEN_FRESH_S = 2.0


def h264_preferences() -> list[RTCRtpCodecCapability]:
    """aiortc's H.264 capabilities (both profile-level-ids) and RTX, in that order."""
    codecs = RTCRtpSender.getCapabilities("video").codecs
    h264 = [c for c in codecs if c.mimeType.lower() == "video/h264"]
    rtx = [c for c in codecs if c.mimeType.lower() == "video/rtx"]
    return h264 + rtx


def check_offer(offer_sdp: str) -> None:
    """Reject what is not an SDP offer with audio or video: MediaError(400)."""
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


class Peer:
    """A participant's RTCPeerConnection and the media the room reads from it."""

    def __init__(
        self,
        spec: PeerSpec,
        *,
        ice_servers: list[RTCIceServer],
        request_keyframe: Callable[[], None],
        audio_in: MixerInput,
        on_state: Callable[[Peer, str], None],
    ) -> None:
        self.spec = spec
        self.call_id = str(uuid.uuid4())
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=list(ice_servers)))
        self.video_out = PacketTrack(request_keyframe)
        self.audio_out = MixTrack()
        self.audio_in = audio_in
        self.camera: av.VideoFrame | None = None
        self.screen: av.VideoFrame | None = None
        self.screen_at = 0.0
        self.last_media = time.monotonic()
        self.video_muted = False
        self.connected = False
        self.closed = False
        self._request_keyframe = request_keyframe
        self._on_state = on_state
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

    async def accept(self, offer_sdp: str) -> str:
        """Answer the participant's first offer. Raises MediaError 400/406."""
        check_offer(offer_sdp)
        self.pc.addTrack(self.audio_out)
        video_sender = self.pc.addTrack(self.video_out)
        route_keyframe_requests(video_sender, self._request_keyframe)
        for transceiver in self.pc.getTransceivers():
            if transceiver.sender is video_sender:
                transceiver.setCodecPreferences(h264_preferences())
                self._camera_transceiver = transceiver
        return await self._answer(offer_sdp)

    async def renegotiate(self, offer_sdp: str) -> str:
        """Answer a later offer (e.g. a screen share added)."""
        check_offer(offer_sdp)
        return await self._answer(offer_sdp)

    async def _answer(self, offer_sdp: str) -> str:
        try:
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        except OperationError as exc:
            raise MediaError(406, "no usable codec in the offer (video must allow H.264)") from exc
        except Exception as exc:
            raise MediaError(400, f"unusable SDP offer: {exc}"[:200]) from exc
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        return self.pc.localDescription.sdp

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

    async def close(self) -> None:
        """Close the connection and stop reading its media (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.video_out.stop()
        self.audio_out.stop()
        try:
            await self.pc.close()
        except Exception:  # a half-set-up connection: nothing more to release
            log.debug("closing %s's connection failed", self.participant_id, exc_info=True)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
