"""Live broadcasting end to end: a real server with a media worker, two real aiortc
participants in distinct colours, a private nginx-rtmp as the ingest (tests/rtmp.py); what it
recorded is read back with PyAV; ``broadcasts_update`` on ``/rt`` follows the ingest's restart."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.client.conftest import GREEN, RED, colour_share
from tests.rtmp import RtmpServer, free_port
from vidroom.client import Participant
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack
from vidroom.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

KEY = "e2e-stream-key"
CONNECT_SECONDS = 2.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    settings.outbound_allow_private = True  # the ingest is on 127.0.0.1
    settings.broadcast_connect_seconds = CONNECT_SECONDS
    settings.broadcast_give_up_seconds = 20.0
    return settings


@pytest.fixture
def rtmp(tmp_path: Path) -> Iterator[RtmpServer]:
    with RtmpServer(tmp_path / "nginx") as server:
        yield server


async def join(
    server: SeppServer, key: TeamKey, user: str, rgb: tuple[int, int, int], tone: float
) -> tuple[Participant, str]:
    room = await server.room(key, user)
    p = await Participant.join(
        server.base,
        access_key=room["access_key"],
        name=user,
        video=ColorVideoTrack(rgb, size=(320, 240)),
        audio=ToneAudioTrack(tone),
        ice_servers=[],
    )
    return p, room["access_key"]


async def both_shown(p: Participant) -> None:
    async with asyncio.timeout(30):
        while True:
            frame = await p.next_video_frame(within=30)
            if colour_share(frame, RED) > 0.02 and colour_share(frame, GREEN) > 0.02:
                return


async def next_states(cable: Cable, wait: float = 20) -> list[str]:
    message = await cable.message("broadcasts_update", wait)
    assert KEY not in json.dumps(message)
    return [b["state"] for b in message["broadcasts"]]


async def until_state(cable: Cable, state: str, wait: float = 20) -> list[str]:
    """The states reported on the way to ``state`` (``[]``: the broadcast ended)."""
    seen: list[str] = []
    async with asyncio.timeout(wait):
        while True:
            states = await next_states(cable, wait)
            seen.append(states[0] if states else "ended")
            if (states[:1] == [state]) or (state == "ended" and not states):
                return seen


def read_back(path: Path) -> tuple[int, int, int, int]:
    """Decoded pictures, those showing the red tile, the green tile, and audio frames."""
    pictures = reds = greens = audio = 0
    with av.open(str(path)) as container:
        for packet in container.demux():
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    pictures += 1
                    reds += colour_share(frame, RED) > 0.02
                    greens += colour_share(frame, GREEN) > 0.02
                else:
                    audio += 1
    return pictures, reds, greens, audio


async def test_broadcast_a_real_room(
    media_server: SeppServer, acme: TeamKey, rtmp: RtmpServer, tmp_path: Path
) -> None:
    alice, ak = await join(media_server, acme, "alice", RED, 440)
    bob, _ = await join(media_server, acme, "bob", GREEN, 1000)
    http = media_server.http
    cable = await Cable.open(f"ws://127.0.0.1:{media_server.port}/rt?access_key={ak}")
    try:
        await cable.joined()
        await both_shown(alice)
        response = await http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": rtmp.url(KEY)})
        assert response.status_code == 201, response.text
        assert KEY not in response.text
        assert (await until_state(cable, "live"))[-1] == "live"
        await asyncio.sleep(3.0)

        await asyncio.to_thread(rtmp.stop)  # the ingest goes away mid-stream
        assert (await until_state(cable, "reconnecting", 10))[-1] == "reconnecting"
        first = tmp_path / "first.flv"
        shutil.copy(rtmp.recorded(KEY), first)  # nginx overwrites it after the restart
        await asyncio.to_thread(rtmp.start)
        assert (await until_state(cable, "live", 20))[-1] == "live"
        room = (await http.get(f"/rooms/{ak}")).json()
        assert [(b["state"], b["reconnects"]) for b in room["broadcasts"]] == [("live", 1)]
        await asyncio.sleep(2.0)

        response = await http.delete(f"/rooms/{ak}/broadcasts")
        assert response.status_code == 200, response.text
        assert await until_state(cable, "ended", 10) == ["ended"]
        assert (await http.get(f"/rooms/{ak}")).json()["broadcasts"] == []
    finally:
        await cable.close()
        await alice.close()
        await bob.close()

    pictures, reds, greens, audio = read_back(first)
    assert pictures >= 2 * 10, pictures  # ~3 s at the room's frame rate
    assert reds >= pictures * 0.8, (pictures, reds)
    assert greens >= pictures * 0.8, (pictures, greens)
    assert audio >= 2 * 48000 // 1024
    pictures, reds, greens, audio = read_back(rtmp.recorded(KEY))  # after the reconnect
    assert pictures >= 10, pictures
    assert reds >= pictures * 0.8, (pictures, reds)
    assert greens >= pictures * 0.8, (pictures, greens)
    assert audio > 0


async def test_unreachable_ingests_end_with_an_error_and_the_room_goes_on(
    media_server: SeppServer, acme: TeamKey
) -> None:
    alice, ak = await join(media_server, acme, "alice", RED, 440)
    http = media_server.http
    cable = await Cable.open(f"ws://127.0.0.1:{media_server.port}/rt?access_key={ak}")
    silent = socket.socket()  # accepts TCP connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        await cable.joined()
        await alice.next_video_frame(within=30)
        urls = (
            f"rtmp://127.0.0.1:{free_port()}/live/{KEY}",  # nothing listens
            f"rtmp://127.0.0.1:{silent.getsockname()[1]}/live/{KEY}",
        )
        for url in urls:
            began = time.monotonic()
            response = await http.post(f"/rooms/{ak}/broadcasts", data={"stream_url": url})
            assert response.status_code == 201, response.text
            gaps: list[float] = []
            ended = asyncio.ensure_future(until_state(cable, "ended", 10))
            while not ended.done():  # the room's media keeps flowing meanwhile
                last = time.monotonic()
                await alice.next_video_frame(within=5)
                gaps.append(time.monotonic() - last)
            seen = ended.result()
            took = time.monotonic() - began
            assert seen[-1] == "ended", seen
            assert "live" not in seen, seen
            assert took < CONNECT_SECONDS + 2.5, took
            assert max(gaps) < 1.0, gaps
            room = (await http.get(f"/rooms/{ak}")).json()
            assert room["broadcasts"] == []
    finally:
        silent.close()
        await cable.close()
        await alice.close()
