"""Recording the composite through the media contract (in-process ``MediaSupervisor``): two
participants with distinct colours and tones, the file probed with PyAV."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tests.media.conftest import Client, Recorder, close_to, until
from tests.media.recordings import colour_at, probe
from vidroom.media.contract import RecordingTarget
from vidroom.media.supervisor import MediaSupervisor
from vidroom.media.testing import dominant_tones

RED, BLUE, GREEN = (220, 30, 30), (30, 40, 220), (30, 200, 40)
MakeClient = Callable[..., Client]
FRAME = 1 / 15


async def two_in_a_room(
    supervisor: MediaSupervisor, clients: MakeClient, meeting: str
) -> tuple[Client, Client]:
    alice, bob = clients("alice", RED, 500), clients("bob", BLUE, 1100)
    await alice.join(supervisor, meeting)
    await bob.join(supervisor, meeting)
    room = supervisor.rooms[meeting]
    spots = {t.client_id: t for t in room.tiles()}

    def composed() -> bool:  # both cameras are in the composite already
        if alice.latest is None:
            return False
        rgb = alice.latest.to_ndarray(format="rgb24")
        return close_to(colour_at(rgb, spots["c-alice"]), RED) and close_to(
            colour_at(rgb, spots["c-bob"]), BLUE
        )

    assert await until(composed, 10)
    return alice, bob


async def test_a_recording_holds_both_tiles_and_both_tones(
    supervisor: MediaSupervisor, clients: MakeClient, tmp_path: Path
) -> None:
    await two_in_a_room(supervisor, clients, "r1")
    room = supervisor.rooms["r1"]
    path = str(tmp_path / "r1.mp4")
    await supervisor.start_recording("r1", RecordingTarget("rec-1", path))
    started = time.monotonic()
    await asyncio.sleep(1)
    assert supervisor.stats().rooms[0].egress.recordings == 1
    await asyncio.sleep(9)
    result = await supervisor.stop_recording("r1", "rec-1")
    wall = time.monotonic() - started
    assert supervisor.stats().rooms[0].egress.recordings == 0
    assert room.renditions.codecs == ["H264"]  # the peers' encoder, nothing encoded again

    found = probe(path)
    print(f"wall {wall:.2f}s, result {result}, video {found.video_span:.2f}s")
    assert result.recording_id == "rec-1"
    assert result.path == path
    assert result.size == Path(path).stat().st_size > 100_000  # noqa: ASYNC240
    assert abs(result.duration - 10) < 1
    assert abs(found.video_span - 10) < 1
    assert abs(found.audio.shape[0] / found.audio_rate - 10) < 1
    assert found.errors == 0
    assert set(found.sizes) == {(1280, 960)}
    # every composite frame is in the file: a stall of the (loaded) machine delays frames, it
    # leaves no hole of seconds, and the rate holds (half the rate would be 75 frames)
    assert found.max_step() <= 0.75
    assert len(found.video_times) >= 0.6 * 10 / FRAME
    tiles = {t.client_id: t for t in room.tiles()}
    assert len(found.pictures) > 20
    for _, picture in found.pictures:
        assert close_to(colour_at(picture, tiles["c-alice"]), RED)
        assert close_to(colour_at(picture, tiles["c-bob"]), BLUE)
    # the full mix (everyone), all the way through
    for second in (1, 5, 8):
        window = found.audio[second * 48000 : (second + 1) * 48000]
        assert dominant_tones(window, found.audio_rate, [500, 1100]) == {500, 1100}


async def test_pause_leaves_no_gap_and_no_frozen_stretch(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder, tmp_path: Path
) -> None:
    alice, _ = await two_in_a_room(supervisor, clients, "r2")
    room = supervisor.rooms["r2"]
    path = str(tmp_path / "r2.mp4")
    await supervisor.start_recording("r2", RecordingTarget("rec-2", path))
    started = time.monotonic()
    await asyncio.sleep(3.5)
    await supervisor.pause_recording("r2", "rec-2", True)
    paused_at = time.monotonic()
    alice.video.set_color(GREEN)  # what alice sends changes while nothing is recorded
    await asyncio.sleep(3)
    await supervisor.pause_recording("r2", "rec-2", False)
    paused = time.monotonic() - paused_at
    await asyncio.sleep(3.5)
    result = await supervisor.stop_recording("r2", "rec-2")
    wall = time.monotonic() - started

    found = probe(path)
    print(f"wall {wall:.2f}s paused {paused:.2f}s, result {result.duration}s")
    assert abs(result.duration - (wall - paused)) < 0.7
    assert abs(found.video_span - (wall - paused)) < 0.7
    assert abs(found.audio.shape[0] / found.audio_rate - (wall - paused)) < 0.7
    assert found.errors == 0
    # pts continuous: no gap at the resume (the pause was 3 s; a loaded machine may stall less)
    assert found.max_step() <= 0.75
    tile = {t.client_id: t for t in room.tiles()}["c-alice"]
    colours = [(t, colour_at(picture, tile)) for t, picture in found.pictures]
    switch = next(i for i, (_, rgb) in enumerate(colours) if close_to(rgb, GREEN))
    assert all(close_to(rgb, RED) for _, rgb in colours[:switch])
    assert all(close_to(rgb, GREEN) for _, rgb in colours[switch:])
    # the new colour shows right where the pause was: no frozen picture filling the 3 s
    assert abs(colours[switch][0] - 3.5) < 0.7, colours[switch][0]
    assert events.recordings == []  # stop_recording reports nothing
