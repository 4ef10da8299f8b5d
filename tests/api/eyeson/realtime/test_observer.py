"""The Meeting Observer's connection: three ways to pass the API key, one team's meetings only,
and the room and participant updates."""

from __future__ import annotations

import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import PROTOCOLS, Cable, RtServer
from vidroom.events.catalogue import OptionsChanged

UNAUTHORIZED = {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
ROOM_FIELDS = {
    "id", "name", "ready", "started_at", "shutdown", "guest_token", "options", "participants",
    "playbacks", "presentation", "broadcasts", "recording",
}  # fmt: skip


@pytest.mark.parametrize("via", ["header", "subprotocol", "query"])
async def test_the_api_key_three_ways(rt_server: RtServer, acme: TeamKey, via: str) -> None:
    await rt_server.room(acme, "alice")
    url = f"{rt_server.ws}?room_id=r1"
    if via == "header":
        cable = await Cable.open(url, additional_headers=acme.auth)
    elif via == "subprotocol":
        cable = await Cable.open(url, protocols=[*PROTOCOLS, acme.key])
    else:
        cable = await Cable.open(f"{url}&api_key={acme.key}")
    # the key is never echoed as the selected subprotocol
    assert cable.conn.subprotocol == "actioncable-v1-json"
    assert await cable.frame() == {"type": "welcome"}
    assert (await cable.subscribe())["type"] == "confirm_subscription"
    update = await cable.message("room_update")
    content = update["content"]
    assert set(content) >= ROOM_FIELDS
    assert content["id"] == "r1"
    assert content["ready"] is True
    assert content["shutdown"] is False
    assert [p["id"] for p in content["participants"]] == ["alice"]
    assert set(content["participants"][0]) == {"id", "room_id", "name", "avatar", "guest", "online"}
    # observers have the room channel only
    user = '{"channel":"UserChannel"}'
    assert await cable.subscribe(user) == {"identifier": user, "type": "reject_subscription"}
    await cable.close()


async def test_who_is_turned_away(rt_server: RtServer, acme: TeamKey, globex: TeamKey) -> None:
    await rt_server.room(acme, "alice")
    ws = rt_server.ws
    attempts = [
        Cable.open(f"{ws}?access_key=AAAAAAAAAAAAAAAAAAAAAAAA"),
        Cable.open(f"{ws}?access_key="),
        Cable.open(f"{ws}?access_key={'x' * 5000}"),
        Cable.open(f"{ws}?room_id=r1"),  # no key
        Cable.open(f"{ws}?room_id=r1", additional_headers={"Authorization": "nope"}),
        Cable.open(f"{ws}?room_id=r1&api_key=nope"),
        Cable.open(f"{ws}?room_id=r1", additional_headers=globex.auth),  # another team's room
        Cable.open(f"{ws}?room_id=r2", additional_headers=acme.auth),  # no such meeting
        Cable.open(f"{ws}?api_key={acme.key}"),  # no room id
        Cable.open(ws, protocols=[*PROTOCOLS, acme.key]),
    ]
    for attempt in attempts:
        cable = await attempt
        assert await cable.frame() == UNAUTHORIZED
        await cable.closed()


async def test_an_observer_sees_its_own_team_only(
    rt_server: RtServer, acme: TeamKey, globex: TeamKey
) -> None:
    mine = await rt_server.room(acme, "alice")
    theirs = await rt_server.room(globex, "mallory")  # the same room id, another team
    observer = await rt_server.observer(acme)
    assert [p["id"] for p in observer.first["content"]["participants"]] == ["alice"]
    for room, text in ((theirs, "secret"), (mine, "public")):
        await rt_server.http.post(
            f"/rooms/{room['access_key']}/messages", data={"type": "chat", "content": text}
        )
    chat = await observer.message("chat")
    assert chat["content"] == "public"
    assert chat["user_id"] == "alice"
    await observer.close()


async def test_participant_updates(rt_server: RtServer, acme: TeamKey) -> None:
    alice = await rt_server.room(acme, "alice")
    observer = await rt_server.observer(acme)
    cable = await rt_server.participant(alice["access_key"])
    await cable.joined()
    joined = await observer.message("participant_update")
    assert joined["participant"]["id"] == "alice"
    assert joined["participant"]["online"] is True
    await cable.close()
    left = await observer.message("participant_update")
    assert left["participant"]["online"] is False
    await observer.close()


async def test_options_updates_reach_participants_and_observers(
    rt_server: RtServer, acme: TeamKey
) -> None:
    room = await rt_server.room(acme, "alice", **{"options[show_names]": "false"})
    cable = await rt_server.participant(room["access_key"])
    await cable.joined()
    observer = await rt_server.observer(acme)
    meeting_id = room["signaling"]["options"]["conf_id"]
    # nothing emits options.changed yet (layouts will): publish it as they will
    await rt_server.state.events.publish(
        OptionsChanged(team_id="t", meeting_id=meeting_id, options={"widescreen": True})
    )
    for listener in (cable, observer):
        update = await listener.message("options_update")
        assert update["options"]["widescreen"] is True
        assert update["options"]["show_names"] is False  # as the meeting was started
        assert update["options"]["background_color"] == "#121212"  # the full set, with defaults
        assert set(update["options"]) >= {"show_names", "layout", "sfu_mode", "custom_fields"}
    await cable.close()
    await observer.close()
