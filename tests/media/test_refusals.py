"""Bad input, duplicates, idempotent teardown, and peers that die."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiortc import RTCRtpSender

from tests.media.conftest import Client, Recorder, media_threads, until
from tests.media.test_call import GREEN, RED, sees_everyone
from vidroom.media.contract import MediaError, PeerSpec, RoomSpec
from vidroom.media.supervisor import MediaSupervisor

MakeClient = Callable[[str, tuple[int, int, int], float], Client]
SPEC = PeerSpec(participant_id="x", client_id="cx", display_name="X")


@pytest.mark.parametrize(
    "sdp",
    [
        "",
        "   ",
        "hello",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",  # no media at all
        "m=audio x\r\n",
        "a=fingerprint\r\n",
        "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n",  # no ICE credentials
        "v=0\r\n" + "a=x\r\n" * 20000,  # oversized
    ],
)
async def test_malformed_sdp_is_400(supervisor: MediaSupervisor, sdp: str) -> None:
    with pytest.raises(MediaError) as caught:
        await supervisor.join("bad", SPEC, sdp)
    assert caught.value.code == 400
    assert supervisor.members("bad") == []


def only(client: Client, kind: str, names: set[str]) -> None:
    """Make ``client`` offer only ``names`` for ``kind``."""
    caps = [c for c in RTCRtpSender.getCapabilities(kind).codecs if c.name in names]
    for transceiver in client.pc.getTransceivers():
        if transceiver.kind == kind:
            transceiver.setCodecPreferences(caps)


async def test_offer_without_h264_or_vp8_is_406(
    supervisor: MediaSupervisor, clients: MakeClient
) -> None:
    client = clients("vp9only", RED, 500)
    only(client, "video", {"VP8"})
    # as a VP9-only browser would offer it (aiortc itself cannot offer VP9)
    offer = (await client.offer()).replace("VP8/90000", "VP9/90000")
    assert "H264" not in offer
    assert "VP8" not in offer
    with pytest.raises(MediaError) as caught:
        await supervisor.join("codec", client.spec, offer)
    assert caught.value.code == 406
    assert "H.264 or VP8" in caught.value.reason
    assert supervisor.members("codec") == []


async def test_offer_without_opus_is_406(supervisor: MediaSupervisor, clients: MakeClient) -> None:
    client = clients("pcmu", RED, 500)
    only(client, "audio", {"PCMU"})
    offer = await client.offer()
    assert "opus" not in offer
    with pytest.raises(MediaError) as caught:
        await supervisor.join("codec", client.spec, offer)
    assert caught.value.code == 406
    assert "Opus" in caught.value.reason
    assert supervisor.members("codec") == []


async def test_joining_twice_is_409_and_leave_then_join_replaces(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    first = clients("dup", RED, 500)
    await first.join(supervisor, "twice")
    again = clients("dup", GREEN, 900)
    with pytest.raises(MediaError) as caught:
        await again.join(supervisor, "twice")
    assert caught.value.code == 409
    assert await until(lambda: sees_everyone(first, supervisor, "twice", [first]), 5)

    await supervisor.leave("twice", "dup")
    await again.join(supervisor, "twice")
    assert await until(lambda: sees_everyone(again, supervisor, "twice", [again]), 5)
    assert [m.participant_id for m in supervisor.members("twice")] == ["dup"]


async def test_unknown_room_and_participant(supervisor: MediaSupervisor) -> None:
    await supervisor.leave("nowhere", "nobody")
    await supervisor.close_room("nowhere")
    await supervisor.set_video_muted("nowhere", "nobody", True)
    await supervisor.set_presenter("nowhere", None)
    assert supervisor.members("nowhere") == []
    with pytest.raises(MediaError) as caught:
        await supervisor.renegotiate("nowhere", "nobody", "v=0\r\n")
    assert caught.value.code == 404
    await supervisor.open_room(RoomSpec(meeting_id="empty"))
    await supervisor.open_room(RoomSpec(meeting_id="empty"))  # idempotent
    with pytest.raises(MediaError) as caught:
        await supervisor.renegotiate("empty", "nobody", "v=0\r\n")
    assert caught.value.code == 404
    with pytest.raises(MediaError) as caught:
        await supervisor.set_presenter("empty", "nobody")
    assert caught.value.code == 404
    assert supervisor.stats().rooms[0].peers == 0


async def test_remote_close_is_reported(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    a, b = clients("a", RED, 500), clients("b", GREEN, 900)
    await a.join(supervisor, "die")
    await b.join(supervisor, "die")
    assert await until(lambda: len(events.connected) == 2, 5)
    await b.close()
    assert await until(lambda: [c[1] for c in events.closed] == ["b"], 5), events.closed
    assert [m.participant_id for m in supervisor.members("die")] == ["a"]
    assert [t.client_id for t in events.layouts[-1][2]] == ["c-a"]


async def test_silent_peer_times_out(loopback: None, events: Recorder, clients: MakeClient) -> None:
    supervisor = MediaSupervisor(events, ice_servers=[], media_timeout=1.0)
    try:
        a = clients("quiet", RED, 500)
        a.video.stop()
        a.audio.stop()
        await a.join(supervisor, "quiet")
        assert await until(lambda: bool(events.closed), 4)
        assert events.closed == [("quiet", "quiet", "no media")]
        assert supervisor.members("quiet") == []
    finally:
        await supervisor.close()
    assert await until(lambda: media_threads() == [], 3), media_threads()
