"""The meeting's streamed state on ``/call`` (with the stub media server): ``recording`` after
``call_accepted`` and ``voice_activity`` from the media server to every call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import SeppServer, Sock
from tests.api.eyeson.sepp.test_call import in_call
from vidroom.api.eyeson.sepp.hub import Recording

Offers = Callable[[], Any]


async def test_recording_follows_call_accepted(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    alice, accepted = await in_call(sepp, await sepp.room(acme, "alice"), offers)
    call_id = accepted["data"]["call_id"]
    recording = await alice.expect("recording")
    assert recording["data"] == {"call_id": call_id, "active": False, "enabled": False}
    assert (recording["from"], recording["to"]) == (alice.conf_id, alice.client_id)
    kinds = [m["type"] for m in alice.received]
    assert kinds.index("call_accepted") < kinds.index("recording")
    assert kinds.count("recording") == 1

    # once recording exists, a change reaches every call with its own call_id
    bob, bob_accepted = await in_call(sepp, await sepp.room(acme, "bob"), offers)
    await bob.expect("recording")
    sepp.hub.set_recording(alice.conf_id, Recording(active=True, enabled=True))
    sepp.hub.set_recording(alice.conf_id, Recording(active=True, enabled=True))  # no change
    for sock, cid in ((alice, call_id), (bob, bob_accepted["data"]["call_id"])):
        data = await sock.seen("recording", lambda d: d["active"])
        assert data == {"call_id": cid, "active": True, "enabled": True}
    sepp.hub.set_recording("no-such-meeting", Recording(active=True))  # nothing happens


async def voice(sock: Sock, cid: str, on: bool) -> None:
    await sock.seen("voice_activity", lambda d: d == {"cid": cid, "on": on})


async def test_voice_activity_reaches_every_call(
    sepp: SeppServer, acme: TeamKey, offers: Offers
) -> None:
    alice, _ = await in_call(sepp, await sepp.room(acme, "alice"), offers)
    bob, _ = await in_call(sepp, await sepp.room(acme, "bob"), offers)
    events = sepp.media.events
    await events.voice_activity(alice.conf_id, alice.client_id, True)
    for sock in (alice, bob):
        await voice(sock, alice.client_id, True)

    # a newcomer is told who speaks, after the recording state
    carol, _ = await in_call(sepp, await sepp.room(acme, "carol"), offers)
    await voice(carol, alice.client_id, True)
    kinds = [m["type"] for m in carol.received]
    assert kinds.index("recording") < kinds.index("voice_activity")

    await events.voice_activity(alice.conf_id, alice.client_id, False)
    for sock in (alice, bob, carol):
        await voice(sock, alice.client_id, False)
    await events.voice_activity("no-such-meeting", alice.client_id, True)  # nothing happens

    # the next newcomer hears of nobody speaking
    dave, _ = await in_call(sepp, await sepp.room(acme, "dave"), offers)
    await dave.expect("recording")
    await events.voice_activity(alice.conf_id, bob.client_id, True)
    await voice(dave, bob.client_id, True)
    assert [m["data"] for m in dave.received if m["type"] == "voice_activity"] == [
        {"cid": bob.client_id, "on": True}
    ]
