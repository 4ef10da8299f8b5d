"""The room's egress beside a recording's content: a resolution change mid-recording,
snapshots, refusals, the room ending its recordings on its own, and a failing disk."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from tests.media.conftest import Client, Recorder, close_to, until
from tests.media.recordings import colour_at, probe
from tests.media.test_recorder import BLUE, RED, two_in_a_room
from vidroom.media.contract import MediaError, RecordingResult, RecordingTarget, RoomSpec
from vidroom.media.supervisor import MediaSupervisor

MakeClient = Callable[..., Client]


async def test_a_widescreen_switch_mid_recording_decodes_throughout(
    supervisor: MediaSupervisor, clients: MakeClient, tmp_path: Path
) -> None:
    await supervisor.open_room(RoomSpec("w"))
    await two_in_a_room(supervisor, clients, "w")
    path = str(tmp_path / "w.mp4")
    await supervisor.start_recording("w", RecordingTarget("rec-w", path))
    await asyncio.sleep(2)
    await supervisor.open_room(RoomSpec("w", widescreen=True))  # the options changed
    await asyncio.sleep(2)
    await supervisor.open_room(RoomSpec("w"))  # and back
    await asyncio.sleep(2)
    result = await supervisor.stop_recording("w", "rec-w")
    found = probe(path, every=1)
    assert found.errors == 0
    assert abs(found.video_span - result.duration) < 1.0
    sizes = found.sizes
    first_wide = sizes.index((1280, 720))
    back = sizes.index((1280, 960), first_wide)
    assert set(sizes[:first_wide]) == {(1280, 960)}
    assert set(sizes[first_wide:back]) == {(1280, 720)}
    assert set(sizes[back:]) == {(1280, 960)}
    assert back - first_wide > 10
    assert len(sizes) - back > 10
    assert found.max_step() <= 1.0  # (a loaded machine may stall frames; no gap of seconds)
    # every frame after a change shows the tiles of its own layout
    room = supervisor.rooms["w"]
    tiles = {t.client_id: t for t in room.tiles()}  # 1280x960 again
    for _, picture in found.pictures[back + 2 :]:
        assert close_to(colour_at(picture, tiles["c-alice"]), RED)


async def test_snapshot_is_the_composite_as_png(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    await supervisor.open_room(RoomSpec("s"))
    with pytest.raises(MediaError) as early:
        await supervisor.snapshot("s")
    assert early.value.code == 409
    await two_in_a_room(supervisor, clients, "s")
    image = await supervisor.snapshot("s")
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert (image.width, image.height) == (1280, 960)
    with av.open(io.BytesIO(image.png)) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (1280, 960)
    picture = frame.to_ndarray(format="rgb24")
    tiles = {t.client_id: t for t in supervisor.rooms["s"].tiles()}
    assert close_to(colour_at(picture, tiles["c-alice"]), RED)
    assert close_to(colour_at(picture, tiles["c-bob"]), BLUE)
    with pytest.raises(MediaError) as missing:
        await supervisor.snapshot("nope")
    assert missing.value.code == 404


async def test_refusals(supervisor: MediaSupervisor, tmp_path: Path) -> None:
    target = RecordingTarget("rec-x", str(tmp_path / "x.mp4"))
    for call in (
        supervisor.start_recording("nope", target),
        supervisor.pause_recording("nope", "rec-x", True),
        supervisor.stop_recording("nope", "rec-x"),
    ):
        with pytest.raises(MediaError) as no_room:
            await call
        assert no_room.value.code == 404
    await supervisor.open_room(RoomSpec("e"))
    await supervisor.start_recording("e", target)
    with pytest.raises(MediaError) as twice:
        await supervisor.start_recording("e", RecordingTarget("rec-y", str(tmp_path / "y.mp4")))
    assert twice.value.code == 409
    for call in (
        supervisor.pause_recording("e", "other", True),
        supervisor.pause_recording("e", "other", False),
        supervisor.stop_recording("e", "other"),
    ):
        with pytest.raises(MediaError) as unknown:
            await call
        assert unknown.value.code == 404
    result = await supervisor.stop_recording("e", "rec-x")  # nothing was composed: empty
    assert result.duration == 0
    with pytest.raises(MediaError) as stopped:
        await supervisor.stop_recording("e", "rec-x")
    assert stopped.value.code == 404


async def test_the_room_ends_its_recordings_when_emptied_or_closed(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder, tmp_path: Path
) -> None:
    await two_in_a_room(supervisor, clients, "l")
    await supervisor.start_recording("l", RecordingTarget("rec-1", str(tmp_path / "1.mp4")))
    await asyncio.sleep(2)
    await supervisor.leave("l", "alice")
    assert events.recordings == []
    await supervisor.leave("l", "bob")
    assert await until(lambda: len(events.recordings) == 1, 5)
    meeting, result, reason = events.recordings[0]
    assert (meeting, result.recording_id, reason) == ("l", "rec-1", "empty")
    assert 1 < result.duration < 3
    assert supervisor.stats().rooms[0].egress.recordings == 0
    assert abs(probe(result.path).video_span - result.duration) < 0.3

    carol = clients("carol", RED, 700)
    await carol.join(supervisor, "l")
    assert await until(lambda: carol.frames > 3, 10)
    await supervisor.start_recording("l", RecordingTarget("rec-2", str(tmp_path / "2.mp4")))
    await asyncio.sleep(1.5)
    await supervisor.close_room("l")
    assert [(r.recording_id, why) for _, r, why in events.recordings] == [
        ("rec-1", "empty"),
        ("rec-2", "closed"),
    ]
    assert events.recordings[1][1].duration > 0.5


async def test_closing_the_room_as_its_last_peer_drops_still_ends_the_recording(
    supervisor: MediaSupervisor,
    clients: MakeClient,
    events: Recorder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The race behind a CI flake: the last peer's connection closes (the room's own leave
    task ends the egress) and the control plane closes the room meanwhile; the recording's end
    must still be reported, not cancelled with the room's tasks."""
    await two_in_a_room(supervisor, clients, "m")
    await supervisor.start_recording("m", RecordingTarget("rec-3", str(tmp_path / "3.mp4")))
    await asyncio.sleep(1.5)
    await supervisor.leave("m", "alice")
    told = events.recording_ended

    async def slowly(meeting_id: str, result: RecordingResult, reason: str) -> None:
        await asyncio.sleep(0.5)  # the control plane's database write takes a while
        await told(meeting_id, result, reason)

    monkeypatch.setattr(events, "recording_ended", slowly)
    room = supervisor.rooms["m"]
    room._spawn(room.leave("bob", reason="connection closed"))  # as _on_peer_state does
    assert await until(lambda: not room.egress.recorders, 5)  # its egress is ending
    await supervisor.close_room("m")
    assert [(r.recording_id, why) for _, r, why in events.recordings] == [("rec-3", "empty")]
    assert events.recordings[0][1].duration > 0.5


async def test_a_write_error_ends_the_recording(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder, tmp_path: Path
) -> None:
    await two_in_a_room(supervisor, clients, "d")
    (tmp_path / "file").write_text("a file where the folder should be")
    path = str(tmp_path / "file" / "d.mp4")  # no folder can be made there
    await supervisor.start_recording("d", RecordingTarget("rec-d", path))
    assert await until(lambda: len(events.recordings) == 1, 5)
    meeting, result, reason = events.recordings[0]
    assert (meeting, result.recording_id, reason) == ("d", "rec-d", "error")
    assert result.size == 0
    with pytest.raises(MediaError) as over:
        await supervisor.stop_recording("d", "rec-d")
    assert over.value.code == 404
    # the room goes on and may record again
    await supervisor.start_recording("d", RecordingTarget("rec-e", str(tmp_path / "e.mp4")))
    await asyncio.sleep(1)
    assert (await supervisor.stop_recording("d", "rec-e")).duration > 0.3
