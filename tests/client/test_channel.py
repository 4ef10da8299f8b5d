"""The data channel against the real media server over ``/call``: it opens after
``call_accepted`` with pings the web client recognises; voice activity reaches every participant
on the channel and the websocket; ``mute_video`` works over the channel too."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiortc import RTCSessionDescription

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import SeppServer, make_offer
from tests.client.conftest import GREEN, RED, colour_share
from tests.client.test_participant import join, shows
from vidroom.client import Participant
from vidroom.media.testing import ToneAudioTrack

PING = '{"type":"ping"}'


def media_peer(server: SeppServer, conf_id: str, client_id: str) -> Any:
    room = server.media.rooms[conf_id]
    return next(p for p in room.peers.values() if p.spec.client_id == client_id)


async def test_the_channel_opens_after_call_accepted_and_pings(
    inprocess_media_server: SeppServer, acme: TeamKey
) -> None:
    media_server = inprocess_media_server  # the pongs are counted on the server's peer
    sock = await media_server.sock(await media_server.room(acme, "alice"))
    offer = await make_offer()  # audio, video and the negotiated channel, like the web client
    try:
        assert offer.pc.sctp is not None
        channel = next(iter(offer.pc.sctp._data_channels.values()))
        received: list[str] = []
        opened, pinged = asyncio.Event(), asyncio.Event()
        channel.on("open", opened.set)

        @channel.on("message")
        def answer(message: str) -> None:
            received.append(message)
            if message == PING:
                pinged.set()
                channel.send('{"type":"pong"}')

        accepted = await sock.start(offer.sdp)
        assert accepted["type"] == "call_accepted", accepted
        answer_sdp = accepted["data"]["sdp"]["sdp"]
        lines = answer_sdp.split("\r\n")
        assert "a=eyeson-sepp-messaging" in lines
        assert (
            lines.index("a=eyeson-sepp-messaging")
            == next(i for i, line in enumerate(lines) if line.startswith("t=")) + 1
        )
        assert any(line.startswith("m=application") for line in lines)
        recording = await sock.expect("recording")
        assert recording["data"] == {
            "call_id": accepted["data"]["call_id"],
            "active": False,
            "enabled": False,
        }
        await offer.pc.setRemoteDescription(RTCSessionDescription(answer_sdp, "answer"))
        async with asyncio.timeout(10):
            await opened.wait()
            await pinged.wait()
        assert received[0] == PING  # the very string the web client compares
        peer = media_peer(media_server, sock.conf_id, sock.client_id)
        for _ in range(100):
            if peer.pongs:
                break
            await asyncio.sleep(0.05)
        assert peer.pongs >= 1
        assert peer.last_pong > 0
    finally:
        await offer.pc.close()
        await sock.conn.close()


async def test_voice_activity_reaches_everyone_on_the_channel_and_the_websocket(
    media_server: SeppServer, acme: TeamKey
) -> None:
    voice = ToneAudioTrack(440, amplitude=0.3)
    alice = await Participant.join(
        media_server.base,
        access_key=(await media_server.room(acme, "alice"))["access_key"],
        name="alice",
        audio=voice,
        ice_servers=[],
    )
    bob = await Participant.join(
        media_server.base,
        access_key=(await media_server.room(acme, "bob"))["access_key"],
        name="bob",
        audio=ToneAudioTrack(660, amplitude=0.0005),  # a very quiet line: never speaking
        ice_servers=[],
    )
    a = alice.client_id

    def websocket(p: Participant) -> list[tuple[str, bool]]:
        return [
            (m["data"]["cid"], m["data"]["on"]) for m in p.messages if m["type"] == "voice_activity"
        ]

    try:
        for p in (alice, bob):
            await p.wait_for(lambda p: (a, True) in p.voice and (a, True) in websocket(p), 15)
            assert a in p.speaking
        voice.amplitude = 0.0  # alice stops speaking
        for p in (alice, bob):
            await p.wait_for(lambda p: p.voice[-1] == (a, False) and websocket(p)[-1] == (a, False))
            assert p.speaking == set()
        for p in (alice, bob):
            assert {cid for cid, _ in p.voice + websocket(p)} == {a}
            assert alice.pings >= 1
    finally:
        await alice.leave()
        await bob.leave()


async def test_mute_video_over_the_channel(media_server: SeppServer, acme: TeamKey) -> None:
    alice = await join(media_server, acme, "alice", RED)
    bob = await join(media_server, acme, "bob", GREEN)
    try:
        assert await shows(alice, GREEN)
        await bob.mute_video(True, over_channel=True)
        await alice.wait_for(
            lambda p: (
                p.source is not None
                and bob.client_id in p.source["src"]
                and p.source["src"].index(bob.client_id) not in p.source["vsrc"]
            )
        )
        alice.drain()
        async with asyncio.timeout(10):  # bob's tile turns dark
            while colour_share(await alice.next_video_frame(), GREEN) > 0.001:
                pass
        await bob.mute_video(False, over_channel=True)
        await alice.wait_for(
            lambda p: (
                p.source is not None and p.source["src"].index(bob.client_id) in p.source["vsrc"]
            )
        )
        assert await shows(alice, GREEN)
        assert bob.channel is not None
        bob.channel.send(json.dumps({"type": "mute_video", "on": True, "cid": alice.client_id}))
        await asyncio.sleep(0.5)  # about somebody else: ignored
        assert alice.source is not None
        assert len(alice.source["vsrc"]) == 2
        assert -1 not in alice.source["vsrc"]
    finally:
        await alice.leave()
        await bob.leave()
