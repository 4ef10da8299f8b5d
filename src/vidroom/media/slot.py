"""One media worker process as the API process holds it: its process, its connection, what
it last reported. :func:`launch` starts a worker (``python -m vidroom.media.worker FD`` on its
end of a socket pair; no other descriptor is inherited)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from dataclasses import dataclass, field

from vidroom.media.contract import MediaError, RoomStats, WorkerStats
from vidroom.media.wire import Connection, Notified

CALL_SECONDS = 10.0  # a media command must be answered within this
EXIT_SECONDS = 5.0  # after ``shutdown``, the process must exit within this (else SIGKILL)


async def launch(notified: Notified, *, name: str) -> tuple[asyncio.subprocess.Process, Connection]:
    """Start a worker process and open (and start) the connection to it."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "vidroom.media.worker",
            str(child.fileno()),
            pass_fds=(child.fileno(),),
            stdin=asyncio.subprocess.DEVNULL,
        )
    except BaseException:
        parent.close()
        raise
    finally:
        child.close()
    reader, writer = await asyncio.open_unix_connection(sock=parent)
    connection = Connection(reader, writer, notified=notified, name=name)
    connection.start()
    return process, connection


@dataclass
class WorkerSlot:
    index: int
    process: asyncio.subprocess.Process | None = None
    connection: Connection | None = None
    ready: bool = False
    last_report: float = 0.0
    stats: WorkerStats | None = None
    rooms: list[RoomStats] = field(default_factory=list)
    cpu_rate: float = 0.0  # CPU seconds per second over the last two reports
    restarts: int = 0
    joining: int = 0  # joins under way (counted for placement before they show in stats)
    watcher: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def load(self, placed: int) -> tuple[int, float, int]:
        """Placement order: peers (with joins under way), CPU rate, rooms placed."""
        peers = (self.stats.peers if self.stats else 0) + self.joining
        return (peers, self.cpu_rate, placed)

    def record(self, worker: WorkerStats, rooms: list[RoomStats]) -> None:
        """A report from the worker: its stats, and its heartbeat."""
        now = time.monotonic()
        previous, previous_at = self.stats, self.last_report
        if previous is not None and previous.pid == worker.pid and now > previous_at:
            self.cpu_rate = max(0.0, worker.cpu_seconds - previous.cpu_seconds) / (
                now - previous_at
            )
        self.stats, self.rooms, self.last_report = worker, list(rooms), now

    async def stop(self) -> None:
        """Ask the worker to close its rooms and exit; kill it if it does not."""
        process, connection = self.process, self.connection
        if connection is not None and not connection.closed:
            with contextlib.suppress(MediaError):
                await connection.call("shutdown", within=CALL_SECONDS)
        if process is not None:
            try:
                await asyncio.wait_for(process.wait(), EXIT_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if connection is not None:
            await connection.close()
        if self.watcher is not None:
            self.watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watcher
