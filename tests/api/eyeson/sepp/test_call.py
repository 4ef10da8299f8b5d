"""A call over ``/call`` (with the stub media server): start, membership and podium, leave,
bad input, one call per client, lock, kick and meeting end."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiortc import RTCSessionDescription

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import Offer, SeppServer, Sock
from vidroom.meetings import live

Offers = Callable[[], Any]


async def online(sepp: SeppServer, room: Any) -> bool:
    options = room["signaling"]["options"]
    async with sepp.state.db.uow() as uow:
        p = await live.participant_by_client(uow.session, options["conf_id"], options["client_id"])
        assert p is not None
        return p.online


async def offline_soon(sepp: SeppServer, room: Any, *, want: bool = False) -> bool:
    """Whether the participant is offline (``want=True``: online) within 5 s."""
    for _ in range(100):
        if await online(sepp, room) is want:
            return True
        await asyncio.sleep(0.05)
    return False


async def online_soon(sepp: SeppServer, room: Any) -> bool:
    return await offline_soon(sepp, room, want=True)


async def in_call(sepp: SeppServer, room: Any, offers: Offers) -> tuple[Sock, dict[str, Any]]:
    sock = await sepp.sock(room)
    offer: Offer = await offers()
    accepted = await sock.start(offer.sdp)
    assert accepted["type"] == "call_accepted", accepted
    return sock, accepted


async def test_call_start_accept_memberlist_source_update_and_leave(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    alice_room = await sepp.room(acme, "alice")
    alice, accepted = await in_call(sepp, alice_room, offers)
    a_cid = alice.client_id
    assert accepted["from"] == alice.conf_id
    assert accepted["to"] == a_cid
    assert isinstance(accepted["msg_id"], str)
    assert accepted["msg_id"]
    data = accepted["data"]
    assert data["sdp"]["type"] == "answer"
    assert "a=eyeson-sepp-messaging" in data["sdp"]["sdp"]
    call_id = data["call_id"]
    members = await alice.expect("memberlist")
    assert members["data"] == {
        "call_id": call_id,
        "add": [{"cid": a_cid, "p": "web-1.9.6"}],
        "del": [],
        "count": 1,
        "media": [],
    }
    source = (await alice.expect("source_update"))["data"]
    assert source["src"] == [a_cid]
    assert source["vsrc"] == [0]
    assert source["asrc"] == [0]
    assert source["dims"] == [{"x": 0, "y": 0, "w": 640, "h": 480}]
    assert (source["psrc"], source["bcast"], source["tovl"]) == (-1, False, True)
    assert await online_soon(sepp, alice_room)

    bob_room = await sepp.room(acme, "bob")
    bob, _ = await in_call(sepp, bob_room, offers)
    b_cid = bob.client_id
    bob_members = (await bob.expect("memberlist"))["data"]
    assert {m["cid"] for m in bob_members["add"]} == {a_cid, b_cid}
    assert bob_members["count"] == 2
    added = await alice.seen("memberlist", lambda d: d["count"] == 2)
    assert (added["add"], added["del"]) == ([{"cid": b_cid, "p": "web-1.9.6"}], [])
    await alice.seen("source_update", lambda d: d["src"] == [a_cid, b_cid])

    await bob.send("call_terminate", {"call_id": bob_members["call_id"], "term_code": 0})
    assert (await bob.expect("call_terminated"))["data"]["term_code"] == 200
    await bob.closed()
    gone = await alice.seen("memberlist", lambda d: bool(d["del"]))
    assert (gone["add"], gone["del"], gone["count"]) == ([], [b_cid], 1)
    await alice.seen("source_update", lambda d: d["src"] == [a_cid] and len(d["dims"]) == 1)
    assert await offline_soon(sepp, bob_room)
    assert await online_soon(sepp, alice_room)

    await alice.conn.close()  # leaving without call_terminate ends the call too
    assert await offline_soon(sepp, alice_room)
    for _ in range(100):  # the empty room is closed
        if alice.conf_id in sepp.media.closed_rooms:
            break
        await asyncio.sleep(0.05)
    assert alice.conf_id in sepp.media.closed_rooms


async def test_bad_frames_before_the_call_are_rejected(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    room = await sepp.room(acme, "alice")
    for frame in ("not json", "[1]", '{"data":{}}', '{"type":"call_start","data":[]}'):
        sock = await sepp.sock(room)
        await sock.conn.send(frame)
        assert (await sock.expect("call_rejected"))["data"] == {"reject_code": 400}
        await sock.closed()
    # signalling before call_start
    sock = await sepp.sock(room)
    await sock.send("mute_video", {"on": True, "cid": sock.client_id})
    assert (await sock.expect("call_rejected"))["data"] == {"reject_code": 400}
    await sock.closed()
    # another sender's envelope; binary frames
    sock = await sepp.sock(room)
    await sock.send("call_start", {}, **{"from": "someone-else"})
    assert (await sock.expect("call_rejected"))["data"] == {"reject_code": 400}
    sock = await sepp.sock(room)
    await sock.conn.send(b'{"type":"call_start"}')
    assert (await sock.expect("call_rejected"))["data"] == {"reject_code": 400}
    # and the participant can still start a call
    _, accepted = await in_call(sepp, room, offers)
    assert accepted["type"] == "call_accepted"


async def test_bad_offers_are_rejected_and_the_meeting_goes_on(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    alice, _ = await in_call(sepp, await sepp.room(acme, "alice"), offers)
    await alice.expect("source_update")
    bob_room = await sepp.room(acme, "bob")
    good: Offer = await offers()
    no_codec = good.sdp.replace("VP8/90000", "XYZ/90000").replace("H264/90000", "XYZ/90000")
    no_codec = no_codec.replace("opus/48000", "xyz/48000").replace("PCMU/8000", "xyz/8000")
    no_codec = no_codec.replace("PCMA/8000", "xyz/8000")
    for sdp, code in (
        ("", 400),
        ("hello", 400),
        ("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=video 9 RTP/AVP 96\r\n" + "a=x\r\n" * 3, 400),
        (no_codec, 406),
    ):
        bob = await sepp.sock(bob_room)
        assert (await bob.start(sdp))["data"] == {"reject_code": code}, sdp[:30]
        await bob.closed()
    bob = await sepp.sock(bob_room)
    await bob.send("call_start", {"sdp": {"type": "answer", "sdp": good.sdp}})
    assert (await bob.expect("call_rejected"))["data"] == {"reject_code": 400}
    # alice heard of none of it; bob can still join properly
    bob, _ = await in_call(sepp, bob_room, offers)
    added = await alice.seen("memberlist", lambda d: d["count"] == 2)
    assert added["add"] == [{"cid": bob.client_id, "p": "web-1.9.6"}]
    assert [m for m in alice.received if m["type"] == "memberlist"][1]["data"] == added


async def test_one_call_per_client(sepp: SeppServer, acme: TeamKey, offers: Offers) -> None:
    room = await sepp.room(acme, "alice")
    first, accepted = await in_call(sepp, room, offers)
    await first.expect("source_update")
    second = await sepp.sock(room)
    offer: Offer = await offers()
    assert (await second.start(offer.sdp))["data"] == {"reject_code": 403}
    await second.closed()
    # the same socket again: refused, and its call goes on
    await first.send("call_start", {"sdp": {"type": "offer", "sdp": offer.sdp}})
    assert (await first.expect("call_rejected"))["data"] == {"reject_code": 403}
    await first.send("mute_video", {"call_id": accepted["data"]["call_id"], "on": True})
    source = await first.seen("source_update", lambda d: d["vsrc"] == [-1])
    assert source["src"] == [first.client_id]


async def test_bad_frames_in_a_call_are_tolerated_up_to_a_limit(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    sock, accepted = await in_call(sepp, await sepp.room(acme, "alice"), offers)
    call_id = accepted["data"]["call_id"]
    await sock.send("mute_video", {"call_id": "another", "on": True})
    await sock.send("whatever_new", {"x": 1})  # unknown types are ignored
    for _ in range(9):  # 10 bad messages with the one for another call
        await sock.conn.send("nonsense")
    await sock.send("mute_video", {"call_id": call_id, "on": True})
    await sock.seen("source_update", lambda d: d["vsrc"] == [-1])
    await sock.conn.send("one too many")
    terminated = await sock.expect("call_terminated")
    assert terminated["data"] == {"call_id": call_id, "term_code": 400}
    await sock.closed()


async def test_locked_meeting_rejects_new_calls_but_not_returning_ones(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    alice_room = await sepp.room(acme, "alice", **{"options[lock_available]": "true"})
    bob_room = await sepp.room(acme, "bob")
    alice, _ = await in_call(sepp, alice_room, offers)
    await alice.expect("source_update")
    locked = await sepp.http.post(f"/rooms/{alice_room['access_key']}/lock")
    assert locked.status_code == 201
    bob = await sepp.sock(bob_room)
    offer: Offer = await offers()
    assert (await bob.start(offer.sdp))["data"] == {"reject_code": 607}
    await alice.conn.close()
    assert await offline_soon(sepp, alice_room)
    alice, accepted = await in_call(sepp, alice_room, offers)  # she was in the call before
    assert accepted["type"] == "call_accepted"


async def test_kick_and_meeting_end_terminate_calls(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    alice_room = await sepp.room(acme, "alice")
    bob_room = await sepp.room(acme, "bob")
    alice, _ = await in_call(sepp, alice_room, offers)
    bob, bob_accepted = await in_call(sepp, bob_room, offers)
    await alice.seen("memberlist", lambda d: d["count"] == 2)
    ak = alice_room["access_key"]
    assert (await sepp.http.delete(f"/rooms/{ak}/users/bob")).status_code == 200
    terminated = await bob.expect("call_terminated")
    assert terminated["data"] == {"call_id": bob_accepted["data"]["call_id"], "term_code": 200}
    await bob.closed()
    await alice.seen("memberlist", lambda d: d["del"] == [bob.client_id])

    waiting = await sepp.sock(await sepp.room(acme, "carol"))  # open, no call yet
    assert (await sepp.http.delete(f"/rooms/{ak}")).status_code == 204
    assert (await alice.expect("call_terminated"))["data"]["term_code"] == 200
    await alice.closed()
    assert (await waiting.expect("call_rejected"))["data"] == {"reject_code": 410}
    await waiting.closed()
    assert await offline_soon(sepp, alice_room)


async def test_a_socket_without_call_start_is_closed(sepp: SeppServer, acme: TeamKey) -> None:
    sock = await sepp.sock(await sepp.room(acme, "alice"))
    assert (await sock.expect("call_rejected"))["data"] == {"reject_code": 400}
    await sock.closed()


async def test_a_dropped_socket_resumes_its_call(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    alice_room = await sepp.room(acme, "alice")
    bob, _ = await in_call(sepp, await sepp.room(acme, "bob"), offers)
    alice = await sepp.sock(alice_room)
    offer: Offer = await offers()
    accepted = (await alice.start(offer.sdp))["data"]
    await offer.pc.setRemoteDescription(RTCSessionDescription(accepted["sdp"]["sdp"], "answer"))
    await bob.seen("memberlist", lambda d: d["count"] == 2)
    await alice.conn.close()  # no call_terminate: the call waits for a call_resume

    again = await sepp.sock(alice_room)
    await again.send("call_resume", {"call_id": "another", "sdp": {"type": "offer", "sdp": "v=0"}})
    assert (await again.expect("call_rejected"))["data"] == {"reject_code": 400}
    again = await sepp.sock(alice_room)
    await offer.pc.setLocalDescription(await offer.pc.createOffer())
    resume = {"type": "offer", "sdp": offer.pc.localDescription.sdp}
    await again.send("call_resume", {"call_id": "another", "sdp": resume})
    assert (await again.expect("call_rejected"))["data"] == {"reject_code": 410}
    again = await sepp.sock(alice_room)
    await again.send("call_resume", {"call_id": accepted["call_id"], "sdp": resume})
    resumed = (await again.expect("call_resumed"))["data"]
    assert resumed["call_id"] == accepted["call_id"]
    assert resumed["sdp"]["type"] == "answer"
    await again.seen("source_update", lambda d: len(d["src"]) == 2)
    await again.seen("recording", lambda d: d["call_id"] == accepted["call_id"])
    await asyncio.sleep(2)  # longer than the grace: the call went on
    assert not [m for m in bob.received if m["type"] == "memberlist" and m["data"]["del"]]
    assert await online_soon(sepp, alice_room)

    await again.conn.close()  # and now nobody resumes it
    assert (await bob.seen("memberlist", lambda d: bool(d["del"])))["del"] == [alice.client_id]
    assert await offline_soon(sepp, alice_room)


async def test_a_call_keeps_its_participant_present(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    room = await sepp.room(acme, "alice")
    options = room["signaling"]["options"]

    async def last_seen() -> Any:
        async with sepp.state.db.uow() as uow:
            p = await live.participant_by_client(
                uow.session, options["conf_id"], options["client_id"]
            )
            assert p is not None
            return p.last_seen_at

    await in_call(sepp, room, offers)
    before = await last_seen()
    await asyncio.sleep(1.2)  # presence_seconds is 0.5 here
    assert await last_seen() > before
