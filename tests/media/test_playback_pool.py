"""Playbacks through a WorkerPool: one real worker process, the calls and ``playback_ended``
over the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.media.conftest import Client, Recorder, close_to, until
from tests.media.playback_files import make_video
from vidroom.media.contract import MediaError, PlaybackSpec
from vidroom.media.pool import WorkerPool

RED, BLUE = (230, 30, 30), (30, 30, 230)


@pytest.fixture
async def pool(events: Recorder) -> AsyncIterator[WorkerPool]:
    pool = WorkerPool(events, size=1, host_addresses=["127.0.0.1"], stats_interval=0.5)
    await pool.start()
    yield pool
    await asyncio.wait_for(pool.close(), 30)


def tile_ids(events: Recorder) -> list[str]:
    return [t.client_id for t in events.layouts[-1][2]] if events.layouts else []


def shows(client: Client, events: Recorder, key: str, rgb: tuple[int, int, int]) -> bool:
    tiles = {t.client_id: t for t in events.layouts[-1][2]} if events.layouts else {}
    tile = tiles.get(key)
    if client.latest is None or tile is None:
        return False
    return close_to(client.color_at(tile.x + tile.width // 2, tile.y + tile.height // 2), rgb)


async def test_start_stop_and_end_through_a_worker(
    loopback: None,
    pool: WorkerPool,
    clients: Callable[..., Client],
    events: Recorder,
    tmp_path: Path,
) -> None:
    mp4 = make_video(tmp_path / "a.mp4", [BLUE], seconds=1.0)
    alice = clients("alice", RED, 500)
    await alice.join(pool, "m1")  # type: ignore[arg-type]
    await pool.start_playback("m1", PlaybackSpec("p1", str(mp4), name="clip", loop_count=-1))
    assert await until(lambda: tile_ids(events) == ["c-alice", "p1"], 5)
    assert await until(lambda: shows(alice, events, "p1", BLUE), 10)
    with pytest.raises(MediaError) as twice:
        await pool.start_playback("m1", PlaybackSpec("p1", str(mp4)))
    assert twice.value.code == 409
    with pytest.raises(MediaError) as bad:
        await pool.start_playback("m1", PlaybackSpec("p2", str(tmp_path / "none.mp4")))
    assert bad.value.code == 400
    wrong = [
        (PlaybackSpec("p2", str(mp4), loop_count="1"), "loop_count"),  # type: ignore[arg-type]
        (PlaybackSpec("p2", str(mp4), audio="yes"), "audio"),  # type: ignore[arg-type]
        (PlaybackSpec("p2", 7), "string"),  # type: ignore[arg-type]
    ]
    for spec, reason in wrong:  # what msgpack carries is checked in the worker
        with pytest.raises(MediaError) as refused:
            await pool.start_playback("m1", spec)
        assert refused.value.code == 400
        assert reason in refused.value.reason
    with pytest.raises(MediaError) as no_room:
        await pool.start_playback("m2", PlaybackSpec("p2", str(mp4)))
    assert no_room.value.code == 404
    await pool.stop_playback("m1", "p1")
    assert await until(lambda: tile_ids(events) == ["c-alice"], 5)
    with pytest.raises(MediaError) as unknown:
        await pool.stop_playback("m1", "p1")
    assert unknown.value.code == 404

    await pool.start_playback("m1", PlaybackSpec("p3", str(mp4)))  # once: about 1 s
    assert await until(lambda: events.playbacks == [("m1", "p3", None)], 5)
    assert await until(lambda: tile_ids(events) == ["c-alice"], 5)
    await pool.close_room("m1")
