"""Media worker processes behind the media contract: every method over the real transport,
placement, a worker killed or silent, and shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.media.conftest import Client, Recorder, close_to, until
from vidroom.media.contract import (
    LayerImage,
    MediaError,
    PeerSpec,
    RecordingTarget,
    RoomSpec,
    WorkerStats,
)
from vidroom.media.pool import WorkerPool

RED = (220, 30, 30)
BLUE = (30, 40, 220)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
async def pools(events: Recorder) -> AsyncIterator[Callable[..., WorkerPool]]:
    made: list[WorkerPool] = []

    def make(size: int = 1, **options: Any) -> WorkerPool:
        options.setdefault("host_addresses", ["127.0.0.1"])
        pool = WorkerPool(events, size=size, **options)
        made.append(pool)
        return pool

    yield make
    for pool in made:
        await asyncio.wait_for(pool.close(), 30)


async def test_every_contract_method_over_the_wire(
    loopback: None,
    pools: Callable[..., WorkerPool],
    clients: Callable[..., Client],
    events: Recorder,
) -> None:
    pool = pools(1, stats_interval=0.5)
    await pool.start()
    await pool.open_room(RoomSpec("m1", widescreen=True))
    alice, bob = clients("alice", RED, 440), clients("bob", BLUE, 660)
    answer = await alice.join(pool, "m1")  # type: ignore[arg-type]
    assert answer.call_id
    assert answer.sdp.startswith("v=0")
    await bob.join(pool, "m1")  # type: ignore[arg-type]
    assert await until(lambda: len(pool.members("m1")) == 2, 10)
    assert await until(lambda: alice.frames > 5 and bob.frames > 5, 15)
    assert alice.latest is not None
    assert (alice.latest.width, alice.latest.height) == (1280, 720)
    assert await until(lambda: {p for _, p in events.connected} == {"alice", "bob"}, 10)

    await pool.set_video_muted("m1", "bob", True)
    assert await until(lambda: any(m.video_muted for m in pool.members("m1")), 5)
    await pool.set_presenter("m1", "alice")
    assert await until(lambda: pool.members("m1")[0].presenting, 5)
    await pool.set_presenter("m1", None)
    await pool.show_slide("m1", "bob", LayerImage(0, 4, 4, bytes(64)))  # a slide presents
    assert await until(lambda: pool.members("m1")[0].participant_id == "bob", 5)
    assert pool.members("m1")[0].presenting
    await pool.show_slide("m1", "bob", None)
    await pool.set_presenter("m1", None)
    offer = await alice.offer()
    assert (await pool.renegotiate("m1", "alice", offer)).startswith("v=0")

    stats = await pool.current_stats()
    (room,) = stats.rooms
    assert room.meeting_id == "m1"
    assert room.peers == 2
    (worker,) = stats.workers
    assert isinstance(worker, WorkerStats)
    assert worker.peers == 2
    assert worker.rooms == 1
    assert worker.packets_in > 0
    assert worker.packets_out > 0
    assert worker.cpu_seconds > 0
    assert worker.pid == pool.worker_pids()[0] != os.getpid()

    # refusals cross the boundary with their codes
    with pytest.raises(MediaError) as twice:
        await pool.join("m1", alice.spec, await clients("x", RED, 300).offer())
    assert twice.value.code == 409
    with pytest.raises(MediaError) as bad:
        await pool.join("m1", PeerSpec("eve", "c-eve", "Eve"), "not an sdp")
    assert bad.value.code == 400
    with pytest.raises(MediaError) as unknown:
        await pool.renegotiate("m1", "nobody", offer)
    assert unknown.value.code == 404
    with pytest.raises(MediaError) as no_room:
        await pool.renegotiate("m2", "alice", offer)
    assert no_room.value.code == 404
    with pytest.raises(MediaError) as no_peer:
        await pool.show_slide("m1", "nobody", None)
    assert no_peer.value.code == 404

    await pool.leave("m1", "bob")
    assert await until(lambda: [m.participant_id for m in pool.members("m1")] == ["alice"], 5)
    await pool.close_room("m1")
    assert pool.worker_of("m1") is None
    assert (await pool.current_stats()).rooms == []
    assert events.closed == []  # leave and close_room report nothing


async def test_new_rooms_go_to_the_least_loaded_worker(
    loopback: None, pools: Callable[..., WorkerPool], clients: Callable[..., Client]
) -> None:
    pool = pools(2, stats_interval=0.3)
    await pool.start()
    await clients("a1", RED, 440).join(pool, "busy")  # type: ignore[arg-type]
    await clients("a2", BLUE, 660).join(pool, "busy")  # type: ignore[arg-type]
    busy = pool.worker_of("busy")
    assert busy is not None
    assert await until(lambda: (pool.slots[busy].stats or _none()).peers == 2, 10)
    await pool.open_room(RoomSpec("quiet"))
    assert pool.worker_of("quiet") == 1 - busy  # the worker with no peers
    await clients("b1", RED, 300).join(pool, "quiet")  # type: ignore[arg-type]
    assert await until(lambda: (pool.slots[1 - busy].stats or _none()).peers == 1, 10)
    await pool.open_room(RoomSpec("third"))
    assert pool.worker_of("third") == 1 - busy  # one peer there, two on the other
    metrics = pool.stats()
    assert sorted(w.index for w in metrics.workers) == [0, 1]
    assert {r.meeting_id for r in metrics.rooms} >= {"busy", "quiet"}


def _none() -> WorkerStats:
    return WorkerStats(0, 0, 0.0, 0, 0, 0, 0, 0.0)


@pytest.mark.parametrize("how", ["killed", "silent"])
async def test_a_dead_or_silent_worker_is_replaced_and_its_rooms_reported(
    how: str,
    loopback: None,
    pools: Callable[..., WorkerPool],
    clients: Callable[..., Client],
    events: Recorder,
) -> None:
    pool = pools(2, stats_interval=0.3, heartbeat_timeout=2.0)
    await pool.start()
    await clients("alice", RED, 440).join(pool, "m1")  # type: ignore[arg-type]
    # a green foreground square in the corner, kept across the worker's loss
    await pool.set_layer("m1", 1, LayerImage(1, 64, 64, bytes((0, 200, 0, 255)) * (64 * 64)))
    index = pool.worker_of("m1")
    assert index is not None
    pid = pool.worker_pids()[index]
    assert pid is not None
    os.kill(pid, signal.SIGKILL if how == "killed" else signal.SIGSTOP)
    assert await until(lambda: events.lost == [("m1", ["alice"])], 15), events.lost
    assert pool.worker_of("m1") is None
    assert await until(lambda: not alive(pid), 10)
    assert await until(lambda: pool.slots[index].ready, 30)
    new_pid = pool.worker_pids()[index]
    assert new_pid is not None
    assert new_pid != pid
    assert alive(new_pid)
    # the meeting goes on: the next join lands on a live worker and works
    bob = clients("bob", BLUE, 660)
    await bob.join(pool, "m1")  # type: ignore[arg-type]
    assert await until(lambda: bob.frames > 3, 15)
    assert (await pool.current_stats()).workers[index].restarts == 1
    assert await until(lambda: close_to(bob.color_at(20, 20), (0, 200, 0)), 10), bob.color_at(
        20, 20
    )


async def test_close_stops_every_worker(pools: Callable[..., WorkerPool]) -> None:
    pool = pools(2)
    await pool.start()
    pids = [pid for pid in pool.worker_pids() if pid is not None]
    assert len(pids) == 2
    assert all(alive(pid) for pid in pids)
    await pool.open_room(RoomSpec("m1"))
    await pool.close()
    assert not any(alive(pid) for pid in pids)
    with pytest.raises(MediaError):
        await pool.open_room(RoomSpec("m2"))


async def test_what_a_closing_room_reports_still_arrives(
    loopback: None,
    pools: Callable[..., WorkerPool],
    clients: Callable[..., Client],
    events: Recorder,
    tmp_path: Path,
) -> None:
    """A room ends its recording as it closes (or as its last peer drops while it is being
    closed): that report comes while ``close_room`` runs and must reach the control plane."""
    pool = pools(1)
    await pool.open_room(RoomSpec("m3"))
    alice = clients("alice", RED, 440)
    await alice.join(pool, "m3")  # type: ignore[arg-type]
    assert await until(lambda: alice.frames > 5, 15)
    await pool.start_recording("m3", RecordingTarget("rec-p", str(tmp_path / "p.mp4")))
    await asyncio.sleep(1.5)
    await pool.close_room("m3")
    assert [(m, r.recording_id, why) for m, r, why in events.recordings] == [
        ("m3", "rec-p", "closed")
    ]
    assert events.recordings[0][1].duration > 0.5
