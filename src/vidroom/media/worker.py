"""A media worker process: whole rooms in an event loop of their own.

Started by :class:`vidroom.media.pool.WorkerPool` as ``python -m vidroom.media.worker FD``,
where FD is its end of a socket pair. The first request is ``configure`` with a
:class:`~vidroom.media.contract.WorkerConfig`; then every :class:`MediaControl` method arrives
as a request (:mod:`vidroom.media.wire`) and every :class:`MediaEvents` report goes back as a
notification, beside a ``stats`` notification (a :class:`WorkerStats` and the rooms'
:class:`RoomStats`) every ``stats_interval`` seconds, which is also the worker's heartbeat.

The worker exits when its socket closes (the API process is gone, even SIGKILLed) and on
``shutdown`` (rooms closed first). It ignores SIGINT (a Ctrl-C in a terminal reaches the
whole process group; the API process decides) and closes cleanly on SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import signal
import socket
import sys
import time
from typing import Any

from vidroom.media.contract import (
    BroadcastTarget,
    LayerImage,
    MediaError,
    Member,
    PeerSpec,
    PlaybackSpec,
    RecordingResult,
    RecordingTarget,
    RoomSpec,
    Tile,
    WorkerConfig,
    WorkerStats,
)
from vidroom.media.wire import Connection

log = logging.getLogger("vidroom.media.worker")

EGRESS = {
    "start_recording",
    "pause_recording",
    "stop_recording",
    "finalize_recording",
    "start_broadcast",
    "stop_broadcast",
    "snapshot",
}


class _RemoteEvents:
    """:class:`MediaEvents` for the rooms of this worker: reports go over the wire."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def peer_connected(self, meeting_id: str, participant_id: str) -> None:
        await self.connection.notify("peer_connected", meeting_id, participant_id)

    async def peer_closed(self, meeting_id: str, participant_id: str, reason: str) -> None:
        await self.connection.notify("peer_closed", meeting_id, participant_id, reason)

    async def layout_changed(
        self, meeting_id: str, members: list[Member], tiles: list[Tile]
    ) -> None:
        await self.connection.notify("layout_changed", meeting_id, members, tiles)

    async def voice_activity(self, meeting_id: str, client_id: str, on: bool) -> None:
        await self.connection.notify("voice_activity", meeting_id, client_id, on)

    async def room_lost(self, meeting_id: str, participant_ids: list[str]) -> None:
        """Never reported by a worker about itself."""

    async def recording_ended(self, meeting_id: str, result: RecordingResult, reason: str) -> None:
        await self.connection.notify("recording_ended", meeting_id, result, reason)

    async def broadcast_state(
        self, meeting_id: str, broadcast_id: str, state: str, reason: str | None
    ) -> None:
        await self.connection.notify("broadcast_state", meeting_id, broadcast_id, state, reason)

    async def playback_ended(self, meeting_id: str, play_id: str, error: str | None) -> None:
        await self.connection.notify("playback_ended", meeting_id, play_id, error)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Worker:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.config: WorkerConfig | None = None
        self.supervisor: Any = None  # vidroom.media.supervisor.MediaSupervisor once configured
        self.done = asyncio.Event()
        self._stats_task: asyncio.Task[None] | None = None
        self._lag_ms = 0.0

    async def handle(self, method: str, args: list[Any]) -> Any:
        if method == "configure":
            return self._configure(*args)
        if method == "shutdown":
            await self.shutdown()
            return None
        if method == "ping":
            return os.getpid()
        if self.supervisor is None:
            raise MediaError(503, "the media worker is not configured")
        s = self.supervisor
        if method == "open_room":
            (spec,) = args
            _check(spec, RoomSpec)
            await s.open_room(spec)
            return None
        if method == "close_room":
            await s.close_room(_text(args[0]))
            return None
        if method == "join":
            meeting_id, peer, offer = args
            _check(peer, PeerSpec)
            return await s.join(_text(meeting_id), peer, _text(offer))
        if method == "renegotiate":
            meeting_id, participant_id, offer = (_text(a) for a in args)
            return await s.renegotiate(meeting_id, participant_id, offer)
        if method == "leave":
            await s.leave(*(_text(a) for a in args))
            return None
        if method == "set_video_muted":
            meeting_id, participant_id, muted = args
            await s.set_video_muted(_text(meeting_id), _text(participant_id), bool(muted))
            return None
        if method == "set_presenter":
            meeting_id, participant_id = args
            await s.set_presenter(_text(meeting_id), _optional_text(participant_id))
            return None
        if method == "set_layer":
            meeting_id, z, image = args
            if image is not None:
                _check(image, LayerImage)
            if not isinstance(z, int) or isinstance(z, bool):
                raise MediaError(400, "z must be an integer")
            await s.set_layer(_text(meeting_id), z, image)
            return None
        if method == "start_playback":
            meeting_id, playback = args
            _check(playback, PlaybackSpec)
            await s.start_playback(_text(meeting_id), _playback(playback))
            return None
        if method == "stop_playback":
            await s.stop_playback(*(_text(a) for a in args))
            return None
        if method in EGRESS:
            return await self._egress(method, args)
        if method == "members":
            return s.members(_text(args[0]))
        if method == "stats":
            await s.count_packets()
            return self._stats()
        raise MediaError(400, f"unknown media command {method!r}")

    async def _egress(self, method: str, args: list[Any]) -> Any:
        s = self.supervisor
        assert s is not None
        if method == "finalize_recording":
            return await s.finalize_recording(*(_text(a) for a in args))
        if method == "snapshot":
            return await s.snapshot(_text(args[0]))
        meeting_id, second, *rest = args
        if method == "start_recording":
            _check(second, RecordingTarget)
            return await s.start_recording(_text(meeting_id), second)
        if method == "start_broadcast":
            _check(second, BroadcastTarget)
            return await s.start_broadcast(_text(meeting_id), second)
        if method == "pause_recording":
            (paused,) = rest
            if not isinstance(paused, bool):
                raise MediaError(400, "paused must be true or false")
            return await s.pause_recording(_text(meeting_id), _text(second), paused)
        if method == "stop_recording":
            return await s.stop_recording(_text(meeting_id), _text(second))
        return await s.stop_broadcast(_text(meeting_id), _text(second))

    def _configure(self, config: WorkerConfig) -> int:
        _check(config, WorkerConfig)
        if self.supervisor is not None:
            raise MediaError(409, "the media worker is configured already")
        self.config = config
        logging.basicConfig(
            level=config.log_level.upper(),
            format=f"%(levelname)s media-worker-{config.index}: %(name)s: %(message)s",
        )
        if config.log_level.lower() != "debug":  # ICE and DTLS chatter is for debugging
            for name in ("aioice", "aiortc"):
                logging.getLogger(name).setLevel(logging.WARNING)
        if config.host_addresses:
            import aioice.ice

            addresses = list(config.host_addresses)
            ice: Any = aioice.ice
            ice.get_host_addresses = lambda use_ipv4, use_ipv6: addresses
        from vidroom.media.supervisor import MediaSupervisor

        self.supervisor = MediaSupervisor(
            _RemoteEvents(self.connection),
            ice_servers=config.ice_servers,
            media_timeout=config.media_timeout,
            max_peers=config.max_peers,
        )
        self._stats_task = asyncio.create_task(self._report_stats(config.stats_interval))
        return os.getpid()

    def _stats(self) -> list[Any]:
        assert self.config is not None
        assert self.supervisor is not None
        media = self.supervisor.stats()
        worker = WorkerStats(
            index=self.config.index,
            pid=os.getpid(),
            cpu_seconds=_cpu_seconds(),
            rooms=len(media.rooms),
            peers=sum(r.peers for r in media.rooms),
            packets_in=sum(r.packets_in for r in media.rooms),
            packets_out=sum(r.packets_out for r in media.rooms),
            loop_lag_ms=self._lag_ms,
        )
        return [worker, media.rooms]

    async def _report_stats(self, interval: float) -> None:
        assert self.supervisor is not None
        while True:
            started = time.monotonic()
            await asyncio.sleep(interval)
            self._lag_ms = max(0.0, (time.monotonic() - started - interval) * 1000)
            try:
                await self.supervisor.count_packets()
            except Exception:
                log.exception("could not count packets")
            await self.connection.notify("stats", *self._stats())

    async def shutdown(self) -> None:
        if self._stats_task is not None:
            self._stats_task.cancel()
        if self.supervisor is not None:
            await self.supervisor.close()
        self.done.set()


def _check(value: object, cls: type[Any]) -> None:
    if not isinstance(value, cls):
        raise MediaError(400, f"expected a {cls.__name__}")


def _playback(spec: PlaybackSpec) -> PlaybackSpec:
    """Its fields' types checked (msgpack carries whatever the sender put in)."""
    _text(spec.play_id)
    _text(spec.path)
    _optional_text(spec.name)
    _optional_text(spec.replacement_id)
    if not isinstance(spec.loop_count, int) or isinstance(spec.loop_count, bool):
        raise MediaError(400, "loop_count must be an integer")
    if spec.loop_count < -1:
        raise MediaError(400, "loop_count must be -1 (forever) or more")
    if not isinstance(spec.audio, bool):
        raise MediaError(400, "audio must be true or false")
    return spec


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise MediaError(400, "expected a string")
    return value


def _optional_text(value: object) -> str | None:
    return None if value is None else _text(value)


async def serve(sock: socket.socket) -> None:
    reader, writer = await asyncio.open_unix_connection(sock=sock)
    worker: Worker | None = None

    async def handler(method: str, args: list[Any]) -> Any:
        assert worker is not None
        try:
            return await worker.handle(method, args)
        except (TypeError, ValueError) as exc:  # wrong arguments for the method
            raise MediaError(400, f"bad arguments for {method}: {exc}") from exc

    connection = Connection(reader, writer, handler=handler, name="media worker")
    worker = Worker(connection)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(worker.shutdown()))
    connection.start()
    closed = asyncio.ensure_future(connection.wait_closed())
    done = asyncio.ensure_future(worker.done.wait())
    await asyncio.wait([closed, done], return_when=asyncio.FIRST_COMPLETED)
    if not worker.done.is_set():
        await worker.shutdown()  # the API process is gone: close every peer
    await asyncio.sleep(0.05)  # let the answer to ``shutdown`` leave
    closed.cancel()
    done.cancel()
    await connection.close()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isdigit():
        sys.exit("usage: python -m vidroom.media.worker FD")
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=int(args[0]))
    try:
        import uvloop

        uvloop.run(serve(sock))
    except ImportError:
        asyncio.run(serve(sock))


if __name__ == "__main__":
    main()
