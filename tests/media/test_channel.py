"""The negotiated data channel (eyeson-sepp.md §4): pings and pongs, liveness, ``mute_video``
from the channel, and voice activity on the channel and through MediaEvents."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import pytest

from tests.media.conftest import Client, Recorder, media_threads, until
from tests.media.test_call import GREEN, RED, YELLOW, centres, sees_everyone
from vidroom.media.supervisor import MediaSupervisor

MakeClient = Callable[..., Client]
PING = '{"type":"ping"}'


@pytest.fixture
async def quick(loopback: None, events: Recorder) -> AsyncIterator[MediaSupervisor]:
    """A media server that gives up on a silent peer after 1.5 s (pings every 0.5 s)."""
    sup = MediaSupervisor(events, ice_servers=[], media_timeout=1.5)
    yield sup
    await sup.close()
    assert await until(lambda: media_threads() == [], 3), media_threads()


async def test_the_channel_opens_pings_and_takes_pongs(
    quick: MediaSupervisor, clients: MakeClient
) -> None:
    a = clients("a", RED, 500, channel=True)
    await a.join(quick, "ping")
    assert a.channel is not None
    assert await until(lambda: a.channel is not None and a.channel.readyState == "open", 5)
    assert await until(lambda: a.channel_messages.count(PING) >= 2, 3), a.channel_messages
    assert a.channel_messages[0] == PING  # the exact string the web client compares
    peer = quick.rooms["ping"].peers["a"]
    assert peer.channel is not None
    assert (peer.channel.label, peer.channel.id, peer.channel.negotiated) == ("data", 0, True)
    assert quick.rooms["ping"].ping_interval == 0.5
    assert await until(lambda: peer.pongs >= 2, 2)
    assert peer.last_pong > 0

    # junk on the channel is ignored; the call goes on
    for junk in ("not json", "[1]", '{"type": 5}', "{}", "x" * 40000, '{"type":"mute_video"}'):
        a.channel.send(junk)
    a.channel.send(b'{"type":"pong"}')  # binary JSON is read like text
    pongs = peer.pongs
    assert await until(lambda: peer.pongs > pongs, 2)
    assert [m.video_muted for m in quick.members("ping")] == [False]
    assert "a" in quick.rooms["ping"].peers


async def test_a_peer_answering_neither_pongs_nor_media_is_closed(
    quick: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    # listener: a data channel, no media; talker: media, no data channel
    listener = clients("listener", RED, 500, channel=True)
    listener.video.stop()
    listener.audio.stop()
    talker = clients("talker", GREEN, 900)
    await listener.join(quick, "alive")
    await talker.join(quick, "alive")
    await asyncio.sleep(3.5)  # more than twice the timeout: both live on pongs / media
    assert events.closed == []
    assert sorted(m.participant_id for m in quick.members("alive")) == ["listener", "talker"]

    listener.answer_pings = False  # the client hangs
    assert await until(lambda: bool(events.closed), 4)
    assert events.closed == [("alive", "listener", "no media")]
    await asyncio.sleep(0.5)
    assert [m.participant_id for m in quick.members("alive")] == ["talker"]


async def test_mute_video_on_the_channel_darkens_the_tile(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    a = clients("a", RED, 500, channel=True)
    b = clients("b", GREEN, 900, channel=True)
    await a.join(supervisor, "mute")
    await b.join(supervisor, "mute")
    assert await until(lambda: all(sees_everyone(c, supervisor, "mute", [a, b]) for c in (a, b)), 5)
    assert await until(lambda: a.channel is not None and a.channel.readyState == "open", 5)
    assert a.channel is not None
    spot = centres(supervisor, "mute")["c-a"]

    # about somebody else: ignored
    a.channel.send(json.dumps({"type": "mute_video", "on": True, "cid": "c-b"}))
    a.channel.send(json.dumps({"type": "mute_video", "on": "yes", "cid": "c-a"}))
    a.channel.send(json.dumps({"type": "mute_video", "on": True, "cid": "c-a"}))
    assert await until(
        lambda: [m.video_muted for m in supervisor.members("mute")] == [True, False], 3
    )
    assert [m.video_muted for m in events.layouts[-1][1]] == [True, False]  # → source_update
    assert await until(lambda: max(b.color_at(*spot)) < 60, 3)

    a.channel.send(json.dumps({"type": "mute_video", "on": False}))  # cid may be left out
    assert await until(lambda: [m.video_muted for m in events.layouts[-1][1]] == [False, False], 3)
    assert await until(lambda: sees_everyone(b, supervisor, "mute", [a]), 3)

    # desktopstreaming over the channel: the presenter layout
    b.channel.send(json.dumps({"type": "desktopstreaming", "on": True, "cid": "c-b"}))  # type: ignore[union-attr]
    assert await until(
        lambda: [m.presenting for m in supervisor.members("mute")] == [True, False], 3
    )
    a.channel.send(json.dumps({"type": "desktopstreaming", "on": False}))  # not a's to end
    b.channel.send(json.dumps({"type": "desktopstreaming", "on": False}))  # type: ignore[union-attr]
    assert await until(lambda: not any(m.presenting for m in supervisor.members("mute")), 3)


async def test_voice_activity_follows_the_speaker(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    speaker = clients("speaker", RED, 440, channel=True)
    quiet = clients("quiet", GREEN, 600, channel=True, amplitude=0.0005)  # about -70 dBFS
    silent = clients("silent", YELLOW, 800, channel=True, amplitude=0.0)
    people = [speaker, quiet, silent]
    await asyncio.gather(*(p.join(supervisor, "voice") for p in people))
    on = ("c-speaker", True)
    assert await until(lambda: all(on in p.voice() for p in people), 8), [p.voice() for p in people]
    assert await until(lambda: ("voice", "c-speaker", True) in events.voice, 2)

    speaker.audio.amplitude = 0.0  # stops speaking, still sends (silent) audio
    off = ("c-speaker", False)
    assert await until(lambda: all(p.voice()[-1] == off for p in people), 5)
    assert await until(lambda: events.voice[-1] == ("voice", "c-speaker", False), 2)

    speaker.audio.amplitude = 0.3  # speaks again, then leaves while speaking
    assert await until(lambda: all(p.voice()[-1] == on for p in people), 5)
    assert await until(lambda: events.voice[-1] == ("voice", "c-speaker", True), 2)
    await supervisor.leave("voice", "speaker")
    assert quiet.voice()[-1] == off
    assert silent.voice()[-1] == off
    assert events.voice[-1] == ("voice", "c-speaker", False)

    # silence and a very quiet signal never count as speaking
    for person in people:
        assert [v for v in person.voice() if v[0] != "c-speaker"] == []
    assert {cid for _, cid, _ in events.voice} == {"c-speaker"}


async def test_a_newcomer_learns_who_speaks(
    supervisor: MediaSupervisor, clients: MakeClient, events: Recorder
) -> None:
    speaker = clients("speaker", RED, 440)  # no data channel: still heard
    await speaker.join(supervisor, "late")
    assert await until(lambda: ("late", "c-speaker", True) in events.voice, 8)
    late = clients("late", GREEN, 600, channel=True, amplitude=0.0)
    await late.join(supervisor, "late")
    assert await until(lambda: ("c-speaker", True) in late.voice(), 5), late.channel_messages
