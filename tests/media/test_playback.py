"""Playbacks end to end: files made with PyAV played into a real room, seen and heard by a real
aiortc participant over loopback."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media.conftest import Client, Recorder, close_to, media_threads, until
from tests.media.playback_files import make_mp3, make_video
from vidroom.media.contract import MediaError, PlaybackSpec, RoomSpec
from vidroom.media.supervisor import MediaSupervisor
from vidroom.media.testing import dominant_tones

RED, GREEN, BLUE, YELLOW = (230, 30, 30), (30, 200, 30), (30, 30, 230), (230, 230, 30)
MakeClient = Callable[..., Client]

QUIET = 300.0  # -40 dBFS of s16: no tone at or above it is heard (the tones are -10 dBFS)


def centre(supervisor: MediaSupervisor, meeting: str, client_id: str) -> tuple[int, int]:
    for t in supervisor.rooms[meeting].tiles():
        if t.client_id == client_id:
            return (t.x + t.width // 2, t.y + t.height // 2)
    raise AssertionError(f"no tile for {client_id}")


def shows(client: Client, supervisor: MediaSupervisor, key: str, rgb: tuple[int, int, int]) -> bool:
    tiles = [t.client_id for t in supervisor.rooms["m1"].tiles()]
    if client.latest is None or key not in tiles:
        return False
    return close_to(client.color_at(*centre(supervisor, "m1", key)), rgb)


def tile_ids(supervisor: MediaSupervisor) -> list[str]:
    return [t.client_id for t in supervisor.rooms["m1"].tiles()]


async def test_a_video_plays_in_its_own_spot_until_stopped(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder, tmp_path: Path
) -> None:
    mp4 = make_video(tmp_path / "a.mp4", [GREEN, BLUE], seconds=2.0)
    webm = make_video(tmp_path / "b.webm", [YELLOW], seconds=1.0, codec="libvpx")
    alice = clients("alice", RED, 500)
    await alice.join(supervisor, "m1")
    await supervisor.start_playback("m1", PlaybackSpec("p1", str(mp4), name="clip", loop_count=-1))
    await supervisor.start_playback("m1", PlaybackSpec("p2", str(webm), loop_count=-1))
    assert tile_ids(supervisor) == ["c-alice", "p1", "p2"]
    assert [t.client_id for t in events.layouts[-1][2]] == ["c-alice", "p1", "p2"]
    assert [m.participant_id for m in events.layouts[-1][1]] == ["alice"]
    assert await until(lambda: shows(alice, supervisor, "p1", GREEN), 5)
    assert await until(lambda: shows(alice, supervisor, "p1", BLUE), 3)  # the colour changes
    assert await until(lambda: shows(alice, supervisor, "p2", YELLOW), 3)
    assert await until(lambda: shows(alice, supervisor, "c-alice", RED), 3)
    assert await until(lambda: shows(alice, supervisor, "p1", GREEN), 3)  # and loops

    with pytest.raises(MediaError) as duplicate:
        await supervisor.start_playback("m1", PlaybackSpec("p1", str(mp4)))
    assert duplicate.value.code == 409

    stopping = time.monotonic()
    await supervisor.stop_playback("m1", "p1")
    assert time.monotonic() - stopping < 0.5  # its thread ended promptly
    assert "media-playback-p1" not in media_threads()
    assert tile_ids(supervisor) == ["c-alice", "p2"]
    with pytest.raises(MediaError) as unknown:
        await supervisor.stop_playback("m1", "p1")
    assert unknown.value.code == 404
    assert [t for t in media_threads() if "playback" in t] == ["media-playback-p2"]
    await supervisor.close_room("m1")  # stops p2 too
    assert await until(lambda: media_threads() == [], 3), media_threads()
    assert events.playbacks == []  # stopped, not ended: nothing reported


async def test_a_replacement_takes_the_participants_spot(
    supervisor: MediaSupervisor, clients: MakeClient, tmp_path: Path
) -> None:
    mp4 = make_video(tmp_path / "a.mp4", [BLUE], seconds=2.0)
    alice, bob = clients("alice", RED, 500), clients("bob", GREEN, 700)
    await alice.join(supervisor, "m1")
    await bob.join(supervisor, "m1")
    bob_spot = centre(supervisor, "m1", "c-bob")
    spec = PlaybackSpec("p1", str(mp4), replacement_id="bob", loop_count=-1)
    await supervisor.start_playback("m1", spec)
    assert tile_ids(supervisor) == ["c-alice", "p1"]
    assert centre(supervisor, "m1", "p1") == bob_spot
    assert await until(lambda: shows(alice, supervisor, "p1", BLUE), 5)
    assert await until(lambda: shows(alice, supervisor, "c-alice", RED), 3)
    assert [m.participant_id for m in supervisor.members("m1")] == ["alice", "bob"]
    await supervisor.stop_playback("m1", "p1")
    assert tile_ids(supervisor) == ["c-alice", "c-bob"]
    assert await until(lambda: shows(alice, supervisor, "c-bob", GREEN), 3)


async def test_layout_users_may_name_a_playback(
    supervisor: MediaSupervisor, clients: MakeClient, tmp_path: Path
) -> None:
    mp4 = make_video(tmp_path / "a.mp4", [BLUE], seconds=2.0)
    await supervisor.open_room(
        RoomSpec("m1", layout="custom", layout_name="two", layout_users=["p1", "alice"])
    )
    alice = clients("alice", RED, 500)
    await alice.join(supervisor, "m1")
    await supervisor.start_playback("m1", PlaybackSpec("p1", str(mp4), loop_count=-1))
    assert tile_ids(supervisor) == ["p1", "c-alice"]
    assert await until(lambda: shows(alice, supervisor, "p1", BLUE), 5)


async def test_loop_count_one_plays_twice_then_ends(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder, tmp_path: Path
) -> None:
    mp4 = make_video(tmp_path / "a.mp4", [GREEN, BLUE], seconds=1.0)
    alice = clients("alice", RED, 500)
    await alice.join(supervisor, "m1")
    started = time.monotonic()
    await supervisor.start_playback("m1", PlaybackSpec("p1", str(mp4), loop_count=1))
    assert await until(lambda: shows(alice, supervisor, "p1", BLUE), 5)
    assert await until(lambda: shows(alice, supervisor, "p1", GREEN), 2)  # the second pass
    assert await until(lambda: events.playbacks != [], 4)
    elapsed = time.monotonic() - started
    print(f"two passes of 1 s ended after {elapsed:.2f} s")
    assert 1.9 < elapsed < 3.0
    assert events.playbacks == [("m1", "p1", None)]
    assert await until(lambda: tile_ids(supervisor) == ["c-alice"], 1)
    assert [t.client_id for t in events.layouts[-1][2]] == ["c-alice"]
    assert await until(lambda: "media-playback-p1" not in media_threads(), 1)


async def test_its_sound_is_heard_and_an_mp3_gets_no_tile(
    supervisor: MediaSupervisor, clients: MakeClient, tmp_path: Path
) -> None:
    mp3 = make_mp3(tmp_path / "tone.mp3", 900, seconds=2.0)
    alice = clients("alice", RED, 500)
    await alice.join(supervisor, "m1")
    assert await until(lambda: len(alice.audio_chunks) >= 20, 5)
    await supervisor.start_playback("m1", PlaybackSpec("p1", str(mp3), audio=True, loop_count=-1))
    assert tile_ids(supervisor) == ["c-alice"]
    alice.audio_chunks.clear()
    assert await until(lambda: len(alice.audio_chunks) >= 60, 5)
    assert dominant_tones(alice.heard(), 48000, [500, 900]) == {900}  # not her own tone
    await supervisor.stop_playback("m1", "p1")
    alice.audio_chunks.clear()
    assert await until(lambda: len(alice.audio_chunks) >= 25, 5)  # what was on its way
    alice.audio_chunks.clear()
    assert await until(lambda: len(alice.audio_chunks) >= 60, 5)
    assert dominant_tones(alice.heard(), 48000, [500, 900], QUIET) == set()


async def test_a_videos_sound_only_with_audio(
    supervisor: MediaSupervisor, clients: MakeClient, tmp_path: Path
) -> None:
    mp4 = make_video(tmp_path / "a.mp4", [BLUE], seconds=2.0, tone=900)
    alice = clients("alice", RED, 500)
    await alice.join(supervisor, "m1")
    await supervisor.start_playback("m1", PlaybackSpec("quiet", str(mp4), loop_count=-1))
    assert await until(lambda: shows(alice, supervisor, "quiet", BLUE), 5)
    alice.audio_chunks.clear()
    assert await until(lambda: len(alice.audio_chunks) >= 60, 5)
    assert dominant_tones(alice.heard(), 48000, [900], QUIET) == set()
    await supervisor.start_playback("m1", PlaybackSpec("loud", str(mp4), audio=True, loop_count=-1))
    alice.audio_chunks.clear()
    assert await until(lambda: len(alice.audio_chunks) >= 60, 5)
    assert dominant_tones(alice.heard(), 48000, [900]) == {900}


async def test_files_that_cannot_be_played_are_refused(
    supervisor: MediaSupervisor, clients: MakeClient, tmp_path: Path
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a video\n" * 100)
    mp3 = make_mp3(tmp_path / "tone.mp3", 900, seconds=1.0)
    mp4 = make_video(tmp_path / "a.mp4", [BLUE], seconds=2.0)
    cut = tmp_path / "cut.mp4"  # the index (moov) is at the end: cut off
    cut.write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    with pytest.raises(MediaError) as no_room:
        await supervisor.start_playback("m1", PlaybackSpec("p1", str(mp4)))
    assert no_room.value.code == 404
    alice = clients("alice", RED, 500)
    await alice.join(supervisor, "m1")
    cases = [
        (PlaybackSpec("p1", str(text)), "not an MP4, WebM or MP3"),  # ffmpeg: "tty"
        (PlaybackSpec("p1", str(tmp_path / "missing.mp4")), "not a playable media file"),
        (PlaybackSpec("p1", str(tmp_path)), "not a playable media file"),
        (PlaybackSpec("p1", str(cut)), "not a playable media file"),
        (PlaybackSpec("p1", str(mp3)), "has no video"),  # audio false: nothing to play
        (PlaybackSpec("p1", str(mp4), loop_count=-2), "loop_count"),
        (PlaybackSpec("", str(mp4)), "play_id"),
    ]
    for spec, reason in cases:
        with pytest.raises(MediaError) as refused:
            await supervisor.start_playback("m1", spec)
        assert refused.value.code == 400, spec
        assert reason in refused.value.reason, refused.value.reason
    assert supervisor.rooms["m1"].playbacks.playing == {}
    assert tile_ids(supervisor) == ["c-alice"]


async def test_a_file_that_breaks_midway_ends_with_an_error(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder, tmp_path: Path
) -> None:
    whole = make_video(
        tmp_path / "a.mp4", [BLUE], seconds=2.0, tone=900, options={"movflags": "faststart"}
    )
    broken = tmp_path / "broken.mp4"  # the index first, then half the media data
    broken.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    alice = clients("alice", RED, 500)
    await alice.join(supervisor, "m1")
    await supervisor.start_playback("m1", PlaybackSpec("p1", str(broken), audio=True))
    assert await until(lambda: shows(alice, supervisor, "p1", BLUE), 5)
    assert await until(lambda: events.playbacks != [], 3)
    ((meeting, play_id, error),) = events.playbacks
    assert (meeting, play_id) == ("m1", "p1")
    assert error is not None
    assert error.startswith("the file could not be decoded ("), error
    assert await until(lambda: tile_ids(supervisor) == ["c-alice"], 1)
    frames = alice.frames
    assert await until(lambda: alice.frames > frames + 10, 3)  # the room goes on
    assert await until(lambda: shows(alice, supervisor, "c-alice", RED), 3)
