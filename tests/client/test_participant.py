"""``vidroom.client.Participant`` against the real media server: two participants see each
other in the composite; membership and podium follow joins and leaves; kick and meeting end
terminate the call; guests join by link."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import SeppServer, make_offer
from tests.client.conftest import BLUE, GREEN, RED, colour_share
from vidroom.client import JoinError, Participant
from vidroom.media.testing import ColorVideoTrack, ToneAudioTrack


async def join(
    server: SeppServer, key: TeamKey, user: str, rgb: tuple[int, int, int]
) -> Participant:
    room = await server.room(key, user)
    return await Participant.join(
        server.base,
        access_key=room["access_key"],
        name=user,
        video=ColorVideoTrack(rgb, size=(320, 240)),
        audio=ToneAudioTrack(440),
        ice_servers=[],
    )


async def shows(p: Participant, rgb: tuple[int, int, int], seconds: float = 20.0) -> bool:
    """Whether a composite frame with ``rgb`` in it arrives within ``seconds``."""
    async with asyncio.timeout(seconds):
        while True:
            frame = await p.next_video_frame(within=seconds)
            if colour_share(frame, rgb) > 0.01:
                return True


async def test_two_participants_see_each_other(media_server: SeppServer, acme: TeamKey) -> None:
    alice = await join(media_server, acme, "alice", RED)
    bob = await join(media_server, acme, "bob", GREEN)
    try:
        assert await shows(alice, GREEN)
        assert await shows(bob, RED)
        await alice.wait_for(lambda p: p.members == [alice.client_id, bob.client_id])
        await alice.wait_for(
            lambda p: (
                p.source is not None
                and sorted(p.source["src"]) == sorted([alice.client_id, bob.client_id])
                and len(p.source["dims"]) == 2
            )
        )
        assert (await alice.next_audio_frame()).sample_rate == 48000
        assert alice.channel is not None
        assert alice.channel.readyState == "open"  # the web client needs the data channel
        await bob.mute_video(True)
        await alice.wait_for(
            lambda p: (
                p.source is not None
                and p.source["src"].index(bob.client_id) not in p.source["vsrc"]
            )
        )
        assert await bob.leave() == 200
        await alice.wait_for(lambda p: p.members == [alice.client_id])
        await alice.wait_for(
            lambda p: p.source is not None and p.source["src"] == [alice.client_id]
        )
    finally:
        await alice.leave()
        await bob.leave()


async def test_kick_and_meeting_end_terminate_the_call(
    media_server: SeppServer, acme: TeamKey
) -> None:
    alice = await join(media_server, acme, "alice", RED)
    bob = await join(media_server, acme, "bob", BLUE)
    try:
        ak = alice.access_key
        assert (await media_server.http.delete(f"/rooms/{ak}/users/bob")).status_code == 200
        async with asyncio.timeout(10):
            assert await bob.terminated == 200
        await alice.wait_for(lambda p: p.members == [alice.client_id])
        assert (await media_server.http.delete(f"/rooms/{ak}")).status_code == 204
        async with asyncio.timeout(10):
            assert await alice.terminated == 200
        for _ in range(100):  # the meeting's media room closes with its last call
            if not (await media_server.media.current_stats()).rooms:
                break
            await asyncio.sleep(0.05)
        assert not (await media_server.media.current_stats()).rooms
    finally:
        await alice.leave()
        await bob.leave()


async def test_guest_link_joins_and_bad_keys_are_refused(
    media_server: SeppServer, acme: TeamKey
) -> None:
    host = await join(media_server, acme, "host", RED)
    try:
        room = (await media_server.http.get(f"/rooms/{host.access_key}")).json()
        guest = await Participant.join(
            media_server.base,
            guest_link=room["links"]["guest_join"],
            name="Guest",
            video=ColorVideoTrack(GREEN, size=(320, 240)),
            ice_servers=[],
        )
        try:
            assert await shows(host, GREEN)
            await host.wait_for(lambda p: len(p.members) == 2)
        finally:
            await guest.leave()
        with pytest.raises(JoinError) as refused:
            await Participant.join(media_server.base, access_key="nope", ice_servers=[])
        assert refused.value.code == 404
    finally:
        await host.leave()


async def test_bad_offers_leave_the_call_running(media_server: SeppServer, acme: TeamKey) -> None:
    alice = await join(media_server, acme, "alice", RED)
    try:
        assert await shows(alice, RED)
        bob_room = await media_server.room(acme, "bob")
        offer = await make_offer()
        await offer.pc.close()
        no_codec = offer.sdp
        for codec in (
            "VP8/90000",
            "H264/90000",
            "rtx/90000",
            "opus/48000",
            "PCMU/8000",
            "PCMA/8000",
        ):
            no_codec = no_codec.replace(codec, "XYZ/90000")
        for sdp, code in (("v=0 garbage", 400), (no_codec, 406)):
            bob = await media_server.sock(bob_room)
            assert (await bob.start(sdp))["data"] == {"reject_code": code}
            await bob.closed()
        alice.drain()
        assert await shows(alice, RED, seconds=5)
        assert alice.members == [alice.client_id]
        assert not alice.terminated.done()
    finally:
        await alice.leave()
