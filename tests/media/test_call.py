"""End to end: aiortc clients join a room and receive the composite and the audio mix."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiortc import RTCRtpSender

from tests.media.conftest import Client, Recorder, close_to, media_threads, until
from vidroom.media.compositor import rgb_to_yuv
from vidroom.media.contract import RoomSpec
from vidroom.media.supervisor import MediaSupervisor
from vidroom.media.testing import dominant_tones

RED, GREEN, BLUE, YELLOW = (230, 30, 30), (30, 200, 30), (30, 30, 230), (230, 230, 30)
MakeClient = Callable[[str, tuple[int, int, int], float], Client]


def centres(supervisor: MediaSupervisor, meeting: str) -> dict[str, tuple[int, int]]:
    room = supervisor.rooms[meeting]
    return {t.client_id: (t.x + t.width // 2, t.y + t.height // 2) for t in room.tiles()}


def sees_everyone(
    client: Client, supervisor: MediaSupervisor, meeting: str, others: list[Client]
) -> bool:
    if client.latest is None:
        return False
    spots = centres(supervisor, meeting)
    return all(close_to(client.color_at(*spots[o.spec.client_id]), o.rgb) for o in others)


async def test_two_peers_see_each_other(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    a, b = clients("alice", RED, 500), clients("bob", GREEN, 1100)
    started = time.monotonic()
    await a.join(supervisor, "m1")
    await b.join(supervisor, "m1")
    both = [a, b]
    assert await until(lambda: all(sees_everyone(c, supervisor, "m1", both) for c in both), 5)
    print(f"both see both after {time.monotonic() - started:.2f}s")
    assert await until(lambda: len(events.connected) == 2, 2)
    tiles = events.layouts[-1][2]
    assert [t.client_id for t in tiles] == ["c-alice", "c-bob"]
    assert tiles[0].width == 640
    assert tiles[0].height == 960
    stats = supervisor.stats().rooms[0]
    print(stats)
    assert stats.peers == 2
    assert stats.keyframes >= 1
    assert stats.encode_ms > 0

    # audio: each hears the other's tone, not their own
    assert await until(lambda: len(a.audio_chunks) >= 60 and len(b.audio_chunks) >= 60, 5)
    assert dominant_tones(a.heard(), 48000, [500, 1100]) == {1100}
    assert dominant_tones(b.heard(), 48000, [500, 1100]) == {500}

    await supervisor.leave("m1", "bob")
    await supervisor.leave("m1", "bob")  # idempotent
    assert [m.participant_id for m in supervisor.members("m1")] == ["alice"]
    await supervisor.close_room("m1")
    await supervisor.close_room("m1")  # idempotent
    assert supervisor.members("m1") == []
    assert events.closed == []  # explicit leaves are not reported
    assert media_threads() == [] or await until(lambda: media_threads() == [], 2), media_threads()


async def test_four_peers_grid_reflows_when_one_leaves(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    people = [
        clients("p1", RED, 430),  # no sum or difference of two tones is near a third
        clients("p2", GREEN, 610),
        clients("p3", BLUE, 970),
        clients("p4", YELLOW, 1330),
    ]
    await asyncio.gather(*(person.join(supervisor, "m4") for person in people))
    assert await until(lambda: all(sees_everyone(c, supervisor, "m4", people) for c in people), 5)
    assert [(t.width, t.height) for t in supervisor.rooms["m4"].tiles()] == [(640, 480)] * 4

    # audio: everyone hears the three others and not themselves
    assert await until(lambda: all(len(c.audio_chunks) >= 60 for c in people), 5)
    tones = [c.hz for c in people]
    for person in people:
        assert dominant_tones(person.heard(), 48000, tones) == set(tones) - {person.hz}

    stats = supervisor.stats().rooms[0]
    print(stats)

    gone = people.pop(2)
    await supervisor.leave("m4", gone.name)
    tiles = events.layouts[-1][2]
    assert sorted(t.client_id for t in tiles) == ["c-p1", "c-p2", "c-p4"]
    spots = centres(supervisor, "m4")
    assert await until(lambda: all(sees_everyone(c, supervisor, "m4", people) for c in people), 3)
    # the blue tile is gone everywhere: the third cell (bottom row, centred) shows yellow
    for person in people:
        assert close_to(person.color_at(*spots["c-p4"]), YELLOW)
        picture = person.latest.to_ndarray(format="rgb24")  # type: ignore[union-attr]
        blue = (picture[:, :, 2] > 180) & (picture[:, :, 0] < 80) & (picture[:, :, 1] < 80)
        assert blue.mean() < 0.001


async def test_open_room_after_a_lazy_join_applies_the_look(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a = clients("a", RED, 500)
    await a.join(supervisor, "late")  # opened lazily: 1280x960, names, default background
    assert await until(lambda: a.latest is not None and a.latest.height == 960, 5)
    await supervisor.open_room(
        RoomSpec("late", widescreen=True, show_names=False, background_color="#0000ff")
    )
    assert await until(lambda: a.latest is not None and a.latest.height == 720, 5)
    assert a.latest is not None
    assert a.latest.width == 1280
    assert close_to(a.color_at(640, 360), RED)
    compositor = supervisor.rooms["late"].compositor
    assert compositor.show_names is False
    assert compositor.background == rgb_to_yuv((0, 0, 255))
    assert await until(lambda: supervisor.stats().rooms[0].keyframes >= 2, 2)


async def test_a_change_reaches_the_composite_quickly(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "fast")
    await b.join(supervisor, "fast")
    assert await until(lambda: all(sees_everyone(c, supervisor, "fast", [a, b]) for c in (a, b)), 5)
    spot = centres(supervisor, "fast")["c-a"]
    delays = []
    for colour in (BLUE, YELLOW, RED):
        changed = time.monotonic()
        a.video.set_color(colour)
        assert await until(lambda c=colour: close_to(b.color_at(*spot), c), 2, step=0.005)
        delays.append(time.monotonic() - changed)
        await asyncio.sleep(0.2)
    print("camera-to-composite delays (s):", [round(d, 3) for d in delays])
    assert sorted(delays)[1] < 0.5


async def test_a_peer_without_camera_gets_a_dark_named_tile(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a = clients("cam", RED, 500)
    viewer = clients("viewer", GREEN, 900)
    for transceiver in viewer.pc.getTransceivers():  # receive video, send none
        if transceiver.kind == "video":
            transceiver.sender.replaceTrack(None)
            transceiver.direction = "recvonly"
    await a.join(supervisor, "cams")
    await viewer.join(supervisor, "cams")
    spots = centres(supervisor, "cams")
    assert await until(lambda: sees_everyone(viewer, supervisor, "cams", [a]), 5)
    assert await until(lambda: a.latest is not None and max(a.color_at(*spots["c-viewer"])) < 60, 5)


async def test_a_vp8_only_peer_gets_a_vp8_rendition_beside_h264(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    a, b = clients("h264", RED, 500), clients("vp8", GREEN, 900)
    vp8 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.name in ("VP8", "rtx")]
    for transceiver in b.pc.getTransceivers():
        if transceiver.kind == "video":
            transceiver.setCodecPreferences(vp8)
    await a.join(supervisor, "mixed")
    answer = await b.join(supervisor, "mixed")
    assert "VP8/90000" in answer.sdp
    assert "H264/90000" not in answer.sdp
    room = supervisor.rooms["mixed"]
    assert await until(
        lambda: all(sees_everyone(c, supervisor, "mixed", [a, b]) for c in (a, b)), 8
    )
    assert room.renditions.codecs == ["H264", "VP8"]  # one encode per codec, not per peer
    vp8_encoder = room.renditions.encoder("VP8")
    assert vp8_encoder is not None
    assert vp8_encoder.keyframes >= 1
    await supervisor.leave("mixed", "vp8")
    assert await until(lambda: room.renditions.codecs == ["H264"], 3)  # released with its peer
    frames = a.frames
    assert await until(lambda: a.frames > frames + 5, 3)  # the H.264 peer goes on
