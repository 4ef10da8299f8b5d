"""Media worker processes, as one :class:`MediaControl` for the API process.

A :class:`WorkerPool` starts ``size`` worker processes (:mod:`vidroom.media.worker`), each on
its own socket pair, and keeps one slot per worker. A meeting's room lives on one worker: the
first ``open_room`` or ``join`` places it on the least-loaded live worker (fewest peers, then
least CPU over the last reports, then fewest rooms), and every later call for the meeting goes
there. ``members`` and ``stats`` answer from what the workers last reported (layouts as they
change, stats every few seconds), so they stay synchronous and cheap.

A worker that exits, closes its socket, or sends no report for ``heartbeat_timeout`` seconds
(it is then killed) is replaced by a new process in the same slot; each meeting it held is
reported through :meth:`MediaEvents.room_lost` and its next ``open_room``/``join`` lands on a
live worker. This module imports no aiortc or av: the media stack loads in the workers only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from vidroom.media.contract import (
    Answer,
    BroadcastTarget,
    IceServerSpec,
    LayerImage,
    MediaError,
    MediaEvents,
    MediaStats,
    Member,
    PeerSpec,
    PlaybackSpec,
    RecordingResult,
    RecordingTarget,
    RoomSpec,
    SnapshotImage,
    WorkerConfig,
)
from vidroom.media.slot import CALL_SECONDS, WorkerSlot, launch
from vidroom.media.wire import Connection

log = logging.getLogger(__name__)

START_SECONDS = 30.0  # a new worker must answer ``configure`` within this
JOIN_SECONDS = 20.0  # an SDP answer (ICE gathering, with STUN/TURN) within this
EGRESS_STOP_SECONDS = 20.0  # finishing a file or closing an RTMP connection within this
FINALIZE_SECONDS = 300.0  # repairing a cut-off recording (a stream copy of the whole file)
RESTART_BACKOFF = (0.0, 0.5, 1.0, 2.0, 5.0)  # between replacements of a crashing slot


class WorkerPool:
    def __init__(
        self,
        events: MediaEvents,
        *,
        size: int,
        ice_servers: Sequence[IceServerSpec] = (),
        media_timeout: float = 15.0,
        max_peers: int = 16,
        host_addresses: Sequence[str] = (),
        stats_interval: float = 2.0,
        heartbeat_timeout: float = 10.0,
        log_level: str = "warning",
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.events = events
        self.config = WorkerConfig(
            index=0,
            ice_servers=list(ice_servers),
            media_timeout=media_timeout,
            max_peers=max_peers,
            host_addresses=list(host_addresses),
            stats_interval=stats_interval,
            log_level=log_level,
        )
        self.heartbeat_timeout = heartbeat_timeout
        self.slots = [WorkerSlot(i) for i in range(size)]
        self.placement: dict[str, int] = {}  # meeting id → slot index
        self.specs: dict[str, RoomSpec] = {}
        self._members: dict[str, list[Member]] = {}
        self._peers: dict[str, set[str]] = {}  # meeting id → participants joined through us
        self._closing = False
        self._started: asyncio.Task[None] | None = None
        self._monitor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start every worker (idempotent; the first call also starts the heartbeat check)."""
        if self._started is None:
            self._started = asyncio.create_task(self._start_all())
        await asyncio.shield(self._started)

    async def _start_all(self) -> None:
        await asyncio.gather(*(self._spawn(slot) for slot in self.slots))
        self._monitor = asyncio.create_task(self._watch_heartbeats(), name="media heartbeats")

    async def _spawn(self, slot: WorkerSlot) -> None:
        connection: Connection | None = None

        def notified(method: str, args: list[Any]) -> Any:
            if connection is None:  # nothing comes before ``configure``; ignore it if it did
                return None
            return self._notified(slot, connection, method, args)

        process, connection = await launch(notified, name=f"media worker {slot.index}")
        slot.process, slot.connection, slot.ready = process, connection, False
        slot.stats, slot.rooms, slot.cpu_rate = None, [], 0.0
        slot.watcher = asyncio.create_task(self._watch(slot, process, connection))
        config = replace(self.config, index=slot.index)
        try:
            await connection.call("configure", config, within=START_SECONDS)
        except MediaError:
            log.error("media worker %d did not start", slot.index)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            return
        slot.ready = True
        slot.last_report = time.monotonic()
        log.info("media worker %d started (pid %d)", slot.index, process.pid)

    async def close(self) -> None:
        """Close every room and stop every worker (application shutdown)."""
        self._closing = True
        if self._started is not None:
            with contextlib.suppress(Exception):
                await self._started
        if self._monitor is not None:
            self._monitor.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*(slot.stop() for slot in self.slots), return_exceptions=True)
        await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- faults ------------------------------------------------------------------------------

    async def _watch(
        self, slot: WorkerSlot, process: asyncio.subprocess.Process, connection: Connection
    ) -> None:
        """Wait for the worker's end (exit or closed socket), then replace it."""
        exited = asyncio.ensure_future(process.wait())
        closed = asyncio.ensure_future(connection.wait_closed())
        try:
            await asyncio.wait([exited, closed], return_when=asyncio.FIRST_COMPLETED)
        finally:
            exited.cancel()
            closed.cancel()
        if self._closing or slot.process is not process:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()  # a closed socket but a live process: it is of no use any more
        code = await process.wait()
        await connection.close()
        log.error("media worker %d (pid %d) died (exit %s)", slot.index, process.pid, code)
        await self._replace(slot)

    async def _replace(self, slot: WorkerSlot) -> None:
        slot.ready = False
        lost = [m for m, index in self.placement.items() if index == slot.index]
        for meeting_id in lost:
            del self.placement[meeting_id]
            self._members.pop(meeting_id, None)
            participants = sorted(self._peers.pop(meeting_id, set()))
            self._background(self.events.room_lost(meeting_id, participants))
        delay = RESTART_BACKOFF[min(slot.restarts, len(RESTART_BACKOFF) - 1)]
        slot.restarts += 1
        if delay:
            await asyncio.sleep(delay)
        if not self._closing:
            await self._spawn(slot)

    async def _watch_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.heartbeat_timeout / 4))
            now = time.monotonic()
            for slot in self.slots:
                process = slot.process
                if (
                    slot.ready
                    and process is not None
                    and process.returncode is None
                    and now - slot.last_report > self.heartbeat_timeout
                ):
                    log.error("media worker %d stopped answering: killing it", slot.index)
                    slot.ready = False
                    with contextlib.suppress(ProcessLookupError):
                        process.send_signal(signal.SIGKILL)

    def _background(self, coro: Any) -> None:
        task = asyncio.ensure_future(self._report(coro))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _report(coro: Any) -> None:
        try:
            await coro
        except Exception:
            log.exception("media: an event handler failed")

    # --- reports from the workers ------------------------------------------------------------

    def _notified(
        self, slot: WorkerSlot, connection: Connection, method: str, args: list[Any]
    ) -> Any:
        if slot.connection is not connection:
            return None  # a replaced worker's last words
        if method == "stats":
            slot.record(*args)
            return None
        meeting_id = args[0] if args else None
        if not isinstance(meeting_id, str) or self.placement.get(meeting_id) != slot.index:
            return None  # about a room this worker no longer holds
        if method == "layout_changed":
            _, members, tiles = args
            self._members[meeting_id] = list(members)
            return self.events.layout_changed(meeting_id, list(members), list(tiles))
        if method == "peer_connected":
            return self.events.peer_connected(meeting_id, str(args[1]))
        if method == "peer_closed":
            self._peers.get(meeting_id, set()).discard(str(args[1]))
            return self.events.peer_closed(meeting_id, str(args[1]), str(args[2]))
        if method == "voice_activity":
            return self.events.voice_activity(meeting_id, str(args[1]), bool(args[2]))
        if method == "recording_ended" and isinstance(args[1], RecordingResult):
            return self.events.recording_ended(meeting_id, args[1], str(args[2]))
        if method == "broadcast_state":
            _, broadcast_id, state, reason = args
            reason = None if reason is None else str(reason)
            return self.events.broadcast_state(meeting_id, str(broadcast_id), str(state), reason)
        if method == "playback_ended":
            _, play_id, error = args
            error = None if error is None else str(error)
            return self.events.playback_ended(meeting_id, str(play_id), error)
        log.warning("media worker %d: unknown report %r", slot.index, method)
        return None

    # --- placement ---------------------------------------------------------------------------

    def worker_of(self, meeting_id: str) -> int | None:
        """The slot index holding the meeting's room, if any."""
        return self.placement.get(meeting_id)

    def _live(self) -> list[WorkerSlot]:
        return [s for s in self.slots if s.ready and s.connection and not s.connection.closed]

    async def _place(self, meeting_id: str) -> WorkerSlot:
        index = self.placement.get(meeting_id)
        if index is not None:
            return self.slots[index]
        deadline = time.monotonic() + START_SECONDS
        while not self._live():  # every worker is being replaced: wait for one
            if self._closing or time.monotonic() > deadline:
                raise MediaError(503, "no media worker is available")
            await asyncio.sleep(0.05)
        index = self.placement.get(meeting_id)  # placed by a concurrent call meanwhile
        if index is not None:
            return self.slots[index]
        live = self._live()
        placed = {s.index: 0 for s in self.slots}
        for slot_index in self.placement.values():
            placed[slot_index] += 1
        slot = min(live, key=lambda s: s.load(placed[s.index]))
        self.placement[meeting_id] = slot.index
        return slot

    def _connection(self, slot: WorkerSlot) -> Connection:
        if slot.connection is None or not slot.ready:
            raise MediaError(503, "the meeting's media worker is restarting")
        return slot.connection

    async def _placed(self, meeting_id: str) -> Connection | None:
        await self.start()
        index = self.placement.get(meeting_id)
        return None if index is None else self._connection(self.slots[index])

    # --- MediaControl ------------------------------------------------------------------------

    async def open_room(self, spec: RoomSpec) -> None:
        await self.start()
        self.specs[spec.meeting_id] = spec
        slot = await self._place(spec.meeting_id)
        await self._connection(slot).call("open_room", spec, within=CALL_SECONDS)

    async def close_room(self, meeting_id: str) -> None:
        connection = await self._placed(meeting_id)
        self.placement.pop(meeting_id, None)
        self.specs.pop(meeting_id, None)
        self._members.pop(meeting_id, None)
        self._peers.pop(meeting_id, None)
        if connection is not None:
            await connection.call("close_room", meeting_id, within=CALL_SECONDS)

    async def join(self, meeting_id: str, peer: PeerSpec, offer_sdp: str) -> Answer:
        await self.start()
        if meeting_id not in self.placement:
            await self.open_room(self.specs.get(meeting_id) or RoomSpec(meeting_id=meeting_id))
        slot = await self._place(meeting_id)
        connection = self._connection(slot)
        slot.joining += 1
        try:
            answer = await connection.call("join", meeting_id, peer, offer_sdp, within=JOIN_SECONDS)
        finally:
            slot.joining -= 1
        if not isinstance(answer, Answer):
            raise MediaError(500, "the media worker sent no answer")
        self._peers.setdefault(meeting_id, set()).add(peer.participant_id)
        return answer

    async def renegotiate(self, meeting_id: str, participant_id: str, offer_sdp: str) -> str:
        connection = await self._placed(meeting_id)
        if connection is None:
            raise MediaError(404, "no media room for this meeting")
        sdp = await connection.call(
            "renegotiate", meeting_id, participant_id, offer_sdp, within=JOIN_SECONDS
        )
        return str(sdp)

    async def leave(self, meeting_id: str, participant_id: str) -> None:
        self._peers.get(meeting_id, set()).discard(participant_id)
        connection = await self._placed(meeting_id)
        if connection is not None:
            await connection.call("leave", meeting_id, participant_id, within=CALL_SECONDS)

    async def set_video_muted(self, meeting_id: str, participant_id: str, muted: bool) -> None:
        connection = await self._placed(meeting_id)
        if connection is not None:
            await connection.call(
                "set_video_muted", meeting_id, participant_id, muted, within=CALL_SECONDS
            )

    async def set_presenter(self, meeting_id: str, participant_id: str | None) -> None:
        connection = await self._placed(meeting_id)
        if connection is not None:
            await connection.call("set_presenter", meeting_id, participant_id, within=CALL_SECONDS)

    async def _room_call(self, meeting_id: str, method: str, *args: Any, within: float) -> Any:
        connection = await self._placed(meeting_id)
        if connection is None:
            raise MediaError(404, "no media room for this meeting")
        return await connection.call(method, meeting_id, *args, within=within)

    async def set_layer(self, meeting_id: str, z: int, image: LayerImage | None) -> None:
        await self._room_call(meeting_id, "set_layer", z, image, within=CALL_SECONDS)

    async def start_playback(self, meeting_id: str, playback: PlaybackSpec) -> None:
        await self._room_call(meeting_id, "start_playback", playback, within=CALL_SECONDS)

    async def stop_playback(self, meeting_id: str, play_id: str) -> None:
        await self._room_call(meeting_id, "stop_playback", play_id, within=CALL_SECONDS)

    async def start_recording(self, meeting_id: str, target: RecordingTarget) -> None:
        await self._room_call(meeting_id, "start_recording", target, within=CALL_SECONDS)

    async def pause_recording(self, meeting_id: str, recording_id: str, paused: bool) -> None:
        await self._room_call(
            meeting_id, "pause_recording", recording_id, paused, within=CALL_SECONDS
        )

    async def stop_recording(self, meeting_id: str, recording_id: str) -> RecordingResult:
        result = await self._room_call(
            meeting_id, "stop_recording", recording_id, within=EGRESS_STOP_SECONDS
        )
        if not isinstance(result, RecordingResult):
            raise MediaError(500, "the media worker sent no recording result")
        return result

    async def finalize_recording(self, recording_id: str, path: str) -> RecordingResult:
        await self.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._live():  # e.g. the only worker died and is being replaced
            if self._closing or time.monotonic() > deadline:
                raise MediaError(503, "no media worker is available")
            await asyncio.sleep(0.05)
        slot = min(self._live(), key=lambda s: s.load(0))
        connection = self._connection(slot)
        result = await connection.call(
            "finalize_recording", recording_id, path, within=FINALIZE_SECONDS
        )
        if not isinstance(result, RecordingResult):
            raise MediaError(500, "the media worker sent no recording result")
        return result

    async def start_broadcast(self, meeting_id: str, target: BroadcastTarget) -> None:
        await self._room_call(meeting_id, "start_broadcast", target, within=CALL_SECONDS)

    async def stop_broadcast(self, meeting_id: str, broadcast_id: str) -> None:
        connection = await self._placed(meeting_id)
        if connection is not None:
            await connection.call(
                "stop_broadcast", meeting_id, broadcast_id, within=EGRESS_STOP_SECONDS
            )

    async def snapshot(self, meeting_id: str) -> SnapshotImage:
        image = await self._room_call(meeting_id, "snapshot", within=CALL_SECONDS)
        if not isinstance(image, SnapshotImage):
            raise MediaError(500, "the media worker sent no snapshot")
        return image

    def members(self, meeting_id: str) -> list[Member]:
        return list(self._members.get(meeting_id, []))

    def stats(self) -> MediaStats:
        rooms = [room for slot in self.slots for room in slot.rooms]
        workers = [
            replace(slot.stats, restarts=slot.restarts)
            for slot in self.slots
            if slot.stats is not None
        ]
        return MediaStats(rooms=rooms, workers=workers)

    async def current_stats(self) -> MediaStats:
        """Every live worker's stats now (asked for, not the last report)."""
        await self.start()
        for slot in self._live():
            assert slot.connection is not None
            worker, rooms = await slot.connection.call("stats", within=CALL_SECONDS)
            slot.record(worker, rooms)
        return self.stats()

    def worker_pids(self) -> list[int | None]:
        return [slot.pid for slot in self.slots]


def default_size() -> int:
    """The default number of media workers: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
