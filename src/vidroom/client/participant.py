"""A meeting participant in Python, for tests, benchmarks and bots: joins through the meeting
API and SEPP signalling like the web client does, sends the given tracks and hands back what it
receives (the composite video, the audio mix) and what signalling tells it.

::

    async with await Participant.join(url, access_key=key, name="bot", video=track) as p:
        frame = await p.next_video_frame()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, TypeVar

import av
import httpx
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from vidroom.client.meeting import JoinError, guest_access_key, ready_room, room_ice_servers

__all__ = ["JoinError", "Participant", "room_ice_servers"]

log = logging.getLogger(__name__)

PLATFORM = "vidroom-python"
REJOIN = 404  # call_terminated: the meeting's media moved; join again (eyeson-sepp.md §6.3)
REJOIN_SECONDS = 20.0
T = TypeVar("T")
Message = dict[str, Any]


def _push(queue: asyncio.Queue[T], item: T) -> None:
    """Keep the newest items: a full queue drops its oldest."""
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(item)


class Participant:
    def __init__(
        self, http: httpx.AsyncClient, room: Message, access_key: str, buffer: int
    ) -> None:
        self.http = http
        self.room = room
        self.access_key = access_key
        options = room["signaling"]["options"]
        self.client_id: str = options["client_id"]
        self.conf_id: str = options["conf_id"]
        self.call_id: str | None = None
        self.pc: RTCPeerConnection | None = None
        self.channel: RTCDataChannel | None = None
        self.ws: ClientConnection | None = None
        self.members: list[str] = []  # client ids in the call, in order of arrival
        self.source: Message | None = None  # the last source_update
        self.messages: list[Message] = []  # every SEPP message received
        self.terminated: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.pings = 0
        self.recording: Message | None = None  # the last ``recording`` message's data
        # (cid, on) per voice_activity received on the data channel, in order (the same news
        # comes over the websocket: see ``messages``); ``speaking``: who speaks now
        self.voice: list[tuple[str, bool]] = []
        self.speaking: set[str] = set()
        self._video: asyncio.Queue[av.VideoFrame] = asyncio.Queue(buffer)
        self._audio: asyncio.Queue[av.AudioFrame] = asyncio.Queue(buffer)
        self._changed = asyncio.Condition()
        self._tasks: list[asyncio.Task[Any]] = []
        self._notifications: set[asyncio.Task[None]] = set()
        self._closed = False
        # how to join again when the server asks (``call_terminated`` 404: its media moved)
        self._joined_with: tuple[
            str, MediaStreamTrack | None, MediaStreamTrack | None, list[RTCIceServer]
        ] = ("", None, None, [])
        self._rejoining: asyncio.Task[None] | None = None
        self._relay = MediaRelay()
        self.rejoins = 0  # how many times the call was joined again

    # --- joining -----------------------------------------------------------------------------

    @classmethod
    async def join(
        cls,
        base_url: str,
        *,
        access_key: str | None = None,
        guest_link: str | None = None,
        name: str = "vidroom bot",
        video: MediaStreamTrack | None = None,
        audio: MediaStreamTrack | None = None,
        ice_servers: list[RTCIceServer] | None = None,
        within: float = 30.0,
        buffer: int = 30,
    ) -> Participant:
        """Join by access key, or as a guest by guest link (``.../join?guest=<token>``) or bare
        guest token; raises :class:`JoinError` when refused. ``ice_servers`` None: the ones
        the room response offers (``stun_servers``/``turn_servers``), as the web client does."""
        http = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=10.0)
        try:
            async with asyncio.timeout(within):
                key = access_key or await guest_access_key(http, guest_link, name)
                room = await ready_room(http, key)
                self = cls(http, room, key, buffer)
                try:
                    servers = room_ice_servers(room) if ice_servers is None else ice_servers
                    self._joined_with = (name, video, audio, servers)
                    await self._connect(name, video, audio, servers)
                except BaseException:
                    await self.close()
                    raise
                return self
        except BaseException:
            await http.aclose()
            raise

    async def _connect(
        self,
        name: str,
        video: MediaStreamTrack | None,
        audio: MediaStreamTrack | None,
        ice_servers: list[RTCIceServer],
    ) -> None:
        options = self.room["signaling"]["options"]
        pc = self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers))
        pc.on("track", self._on_track)
        # audio first, as browsers do; a receive-only section when there is nothing to send
        for kind, track in (("audio", audio), ("video", video)):
            if track is not None:
                # through a relay: a closed connection stops its tracks, and a rejoin sends the
                # same source again
                pc.addTrack(self._relay.subscribe(track, buffered=False))
            else:
                pc.addTransceiver(kind, direction="recvonly")
        channel = self.channel = pc.createDataChannel("data", negotiated=True, id=0)
        channel.on("message", self._on_channel)
        await pc.setLocalDescription(await pc.createOffer())
        self.ws = await connect(
            f"{options['endpoint']}?auth_token={options['auth_token']}", open_timeout=10
        )
        await self._send(
            "call_start",
            {
                "sdp": {"type": "offer", "sdp": pc.localDescription.sdp},
                "display_name": name,
                "mute_video": video is None,
                "platform": PLATFORM,
            },
        )
        while True:
            message = await self._receive()
            if message["type"] == "call_rejected":
                raise JoinError(int(message["data"].get("reject_code", 0)), "call rejected")
            if message["type"] == "call_accepted":
                break
            self._apply(message)
        data = message["data"]
        self.call_id = data["call_id"]
        await pc.setRemoteDescription(RTCSessionDescription(data["sdp"]["sdp"], "answer"))
        self._tasks.append(asyncio.create_task(self._read(self.ws)))

    async def _rejoin(self) -> None:
        """The server moved the meeting's media (``call_terminated`` 404, as when its media
        worker died): join again with a new peer connection, the same tracks and a fresh
        token, retrying for up to ``REJOIN_SECONDS``; then the call ends with 404."""
        self.rejoins += 1
        old_ws, old_pc = self.ws, self.pc
        if old_ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(old_ws.close(), 2)
        if old_pc is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(old_pc.close(), 10)
        delay = 0.1
        deadline = asyncio.get_running_loop().time() + REJOIN_SECONDS
        while not self._closed:
            try:
                self.room = await ready_room(self.http, self.access_key)
                self.members, self.source, self.speaking = [], None, set()
                await self._connect(*self._joined_with)
                break
            except (JoinError, OSError, TimeoutError, httpx.HTTPError) as exc:
                if self.ws is not None and self.ws is not old_ws:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(self.ws.close(), 2)
                if self.pc is not None and self.pc is not old_pc:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.pc.close(), 10)
                if asyncio.get_running_loop().time() + delay > deadline:
                    log.warning("could not rejoin the call: %s", exc)
                    if not self.terminated.done():
                        self.terminated.set_result(REJOIN)
                    break
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)
        self._rejoining = None
        await self._notify()

    # --- signalling --------------------------------------------------------------------------

    async def _send(self, kind: str, data: Message) -> None:
        assert self.ws is not None
        envelope = {
            "type": kind,
            "msg_id": str(uuid.uuid4()),
            "from": self.client_id,
            "to": self.conf_id,
            "data": data,
        }
        await self.ws.send(json.dumps(envelope))

    async def _receive(self) -> Message:
        assert self.ws is not None
        try:
            raw = await self.ws.recv()
        except ConnectionClosed:
            raise JoinError(0, "the signalling socket closed") from None
        message: Message = json.loads(raw)
        self.messages.append(message)
        return message

    def _apply(self, message: Message) -> None:
        kind, data = message.get("type"), message.get("data") or {}
        if kind == "memberlist":
            gone = set(data.get("del", []))
            self.members = [cid for cid in self.members if cid not in gone]
            for added in data.get("add", []):
                if added["cid"] not in self.members:
                    self.members.append(added["cid"])
        elif kind == "source_update":
            self.source = data
        elif kind == "recording":
            self.recording = data
        elif kind == "voice_activity":
            self._voice(data.get("cid"), data.get("on"))
        elif (
            kind == "call_terminated"
            and data.get("term_code") == REJOIN
            and self._rejoining is None
            and not self._closed
        ):
            self._rejoining = asyncio.create_task(self._rejoin())
        elif kind in ("call_terminated", "call_rejected") and not self.terminated.done():
            self.terminated.set_result(int(data.get("term_code", data.get("reject_code", 0))))

    async def _read(self, ws: ClientConnection | None) -> None:
        try:
            while True:
                message = await self._receive()
                self._apply(message)
                async with self._changed:
                    self._changed.notify_all()
        except JoinError:
            if self._rejoining is not None or ws is not self.ws:
                return  # this call's socket is being replaced
            if not self.terminated.done():
                self.terminated.set_result(0)  # the socket closed without a goodbye
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[Participant], bool], within: float = 10.0
    ) -> None:
        """Until signalling makes ``predicate`` true (``TimeoutError`` otherwise)."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    def _on_channel(self, raw: object) -> None:
        """The data channel: flat JSON (eyeson-sepp.md §4); pings are answered at once."""
        if raw == '{"type":"ping"}' and self.channel is not None:
            self.pings += 1
            self.channel.send('{"type":"pong"}')
            return
        try:
            message = json.loads(raw) if isinstance(raw, (str, bytes)) else None
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "voice_activity":
            cid, on = message.get("cid"), message.get("on")
            if isinstance(cid, str) and isinstance(on, bool):
                self.voice.append((cid, on))
            self._voice(cid, on)
            task = asyncio.create_task(self._notify())
            self._notifications.add(task)
            task.add_done_callback(self._notifications.discard)

    def _voice(self, cid: object, on: object) -> None:
        if isinstance(cid, str) and isinstance(on, bool):
            if on:
                self.speaking.add(cid)
            else:
                self.speaking.discard(cid)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def mute_video(self, on: bool, *, over_channel: bool = False) -> None:
        """Camera off (``on``) or back on: over the websocket, or flat over the data channel
        as clients do when the answer lacks ``a=eyeson-sepp-messaging``."""
        if over_channel:
            assert self.channel is not None
            self.channel.send(json.dumps({"type": "mute_video", "on": on, "cid": self.client_id}))
            return
        await self._send("mute_video", {"call_id": self.call_id, "on": on, "cid": self.client_id})

    # --- media -------------------------------------------------------------------------------

    def _on_track(self, track: MediaStreamTrack) -> None:
        queue: Any = self._video if track.kind == "video" else self._audio
        self._tasks.append(asyncio.create_task(self._consume(track, queue)))

    async def _consume(self, track: MediaStreamTrack, queue: asyncio.Queue[Any]) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                _push(queue, await track.recv())

    async def next_video_frame(self, within: float = 10.0) -> av.VideoFrame:
        """The next received composite frame (older ones are dropped when not read)."""
        async with asyncio.timeout(within):
            return await self._video.get()

    async def next_audio_frame(self, within: float = 10.0) -> av.AudioFrame:
        async with asyncio.timeout(within):
            return await self._audio.get()

    async def video_frames(self) -> AsyncIterator[av.VideoFrame]:
        while True:
            yield await self._video.get()

    async def audio_frames(self) -> AsyncIterator[av.AudioFrame]:
        while True:
            yield await self._audio.get()

    def drain(self) -> None:
        """Forget frames received so far (to look at what arrives from now on)."""
        for queue in (self._video, self._audio):
            while not queue.empty():
                queue.get_nowait()

    # --- leaving -----------------------------------------------------------------------------

    async def leave(self, within: float = 5.0) -> int | None:
        """``call_terminate``, then close everything; the server's ``term_code`` if it sent
        one in time."""
        code: int | None = None
        if self.ws is not None and self.call_id is not None and not self.terminated.done():
            with contextlib.suppress(ConnectionClosed):
                await self._send("call_terminate", {"call_id": self.call_id, "term_code": 0})
                with contextlib.suppress(TimeoutError):
                    code = await asyncio.wait_for(asyncio.shield(self.terminated), within)
        elif self.terminated.done():
            code = self.terminated.result()
        await self.close()
        return code

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        tasks = [*self._tasks, *self._notifications]
        if self._rejoining is not None:
            tasks.append(self._rejoining)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), 2)
        if self.pc is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.pc.close(), 10)
        await self.http.aclose()

    async def __aenter__(self) -> Participant:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.leave()
