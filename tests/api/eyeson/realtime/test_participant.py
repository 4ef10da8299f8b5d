"""A participant's connection: the room, readiness, chat, custom messages, lock, "mute
everyone", presence, kick and the end of the meeting, over real websockets."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

from sqlalchemy import select

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import USER, RtServer
from tests.api.eyeson.test_rooms import check_room_response
from vidroom.meetings import live
from vidroom.meetings.models import Participant
from vidroom.teams import service as teams

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ENDED = {"type": "disconnect", "reason": "meeting_ended", "reconnect": False}


async def test_room_setup_is_the_room_response(rt_server: RtServer, acme: TeamKey) -> None:
    room = await rt_server.room(acme, "alice")
    cable = await rt_server.participant(room["access_key"])
    content = await cable.joined()
    check_room_response(content)
    assert content["access_key"] == room["access_key"]
    assert content["ready"] is True  # POST /rooms readies a new meeting
    assert content["user"]["id"] == "alice"
    assert content["room"] == {**room["room"], "ready": True}
    assert content["signaling"]["options"]["client_id"] == room["signaling"]["options"]["client_id"]
    await cable.close()


async def test_room_ready_follows_once_the_meeting_is_ready(
    rt_server: RtServer, acme: TeamKey
) -> None:
    state = rt_server.state
    async with state.db.uow() as uow:
        team, _ = await teams.team_for_api_key(uow.session, acme.key)
        joined = await live.start_or_join(
            uow, team, room_key="slow", name=None, user=live.UserSpec(name="bob"), options={}
        )
    cable = await rt_server.participant(joined.access_key)
    setup = await cable.joined()
    assert setup["ready"] is False
    observer = await rt_server.observer(acme, "slow")
    assert observer.first["content"]["ready"] is False

    await state.supervisor.prepare(joined.meeting.id)
    ready = await cable.message("room_ready")
    check_room_response(ready["content"])
    assert ready["content"]["ready"] is True
    assert ready["content"]["room"]["ready"] is True
    assert ready["content"]["user"]["ready"] is True
    assert (await observer.message("room_update"))["content"]["ready"] is True
    await cable.close()
    await observer.close()


async def test_chat_and_custom_reach_everyone(rt_server: RtServer, acme: TeamKey) -> None:
    alice = await rt_server.room(acme, "alice")
    bob = await rt_server.room(acme, "bob")
    guest = (
        await rt_server.http.post(f"/guests/{alice['room']['guest_token']}", data={"name": "Gus"})
    ).json()
    cables = [await rt_server.participant(r["access_key"]) for r in (alice, bob, guest)]
    for cable in cables:
        await cable.joined()
    observer = await rt_server.observer(acme)

    sent = await rt_server.http.post(
        f"/rooms/{alice['access_key']}/messages", data={"type": "chat", "content": "hi 👋"}
    )
    assert sent.status_code == 201
    cid = alice["signaling"]["options"]["client_id"]
    for cable in [*cables[1:], observer]:
        chat = await cable.message("chat")
        assert chat["content"] == "hi 👋"
        assert chat["cid"] == cid
        assert chat["user_id"] == "alice"
        assert ISO.match(chat["created_at"])

    await rt_server.http.post(
        f"/rooms/{guest['access_key']}/messages",
        data={"type": "custom", "content": '{"emoji":"tada"}'},
    )
    for cable in [cables[0], observer]:
        custom = await cable.message("custom")
        assert custom["content"] == '{"emoji":"tada"}'
        assert custom["user_id"] == guest["user"]["id"]
        assert custom["cid"] == guest["signaling"]["options"]["client_id"]
    for cable in [*cables, observer]:
        await cable.close()


async def test_lock_event(rt_server: RtServer, acme: TeamKey) -> None:
    room = await rt_server.room(acme, "alice", **{"options[lock_available]": "true"})
    cable = await rt_server.participant(room["access_key"])
    await cable.joined()
    assert (await rt_server.http.post(f"/rooms/{room['access_key']}/lock")).status_code == 201
    assert await cable.message("lock") == {"type": "lock", "locked": True}
    await cable.close()


async def test_stfu_is_broadcast_with_the_sender(rt_server: RtServer, acme: TeamKey) -> None:
    alice = await rt_server.room(acme, "alice")
    bob = await rt_server.room(acme, "bob")
    a = await rt_server.participant(alice["access_key"])
    b = await rt_server.participant(bob["access_key"])
    await a.joined()
    await b.joined()
    await a.act({"action": "stfu"})  # the JS client
    for cable in (a, b):
        stfu = await cable.message("stfu")
        assert stfu["user"]["id"] == "alice"
        assert stfu["user"]["name"] == "alice"
        assert ISO.match(stfu["user"]["joined_at"])
    await b.act({"message": "stfu", "action": "stfu"}, USER)  # the Android SDK
    assert (await a.message("stfu"))["user"]["id"] == "bob"
    await a.close()
    await b.close()


async def test_presence_follows_the_connection(rt_server: RtServer, acme: TeamKey) -> None:
    host = await rt_server.room(acme, "host")
    alice = await rt_server.room(acme, "alice")
    observer = await rt_server.observer(acme)
    assert all(p["online"] is False for p in observer.first["content"]["participants"])

    async def online() -> list[str]:
        response = await rt_server.http.get(
            "/rooms/r1/users", params={"online": "true"}, headers=acme.auth
        )
        return [u["id"] for u in response.json()]

    # subscribed to UserChannel only: not yet present; the user_joins keep-alive makes it so
    cable = await rt_server.participant(alice["access_key"])
    assert (await cable.frame())["type"] == "welcome"
    assert (await cable.subscribe(USER))["type"] == "confirm_subscription"
    assert await online() == []
    await cable.act({"action": "user_joins"}, USER)
    update = await observer.message("participant_update")
    assert update["participant"] == {
        "id": "alice",
        "room_id": "r1",
        "name": "alice",
        "avatar": None,
        "guest": False,
        "online": True,
    }
    assert await online() == ["alice"]
    first_seen = await _last_seen(rt_server, "alice")

    # a second connection of the same participant: closing one keeps them present
    second = await rt_server.participant(alice["access_key"])
    await second.joined()  # subscribing to RoomChannel counts as presence (no change here)
    await cable.close()
    # the host joining proves the observer saw nothing for alice in between
    host_cable = await rt_server.participant(host["access_key"])
    await host_cable.joined()
    assert (await observer.message("participant_update"))["participant"]["id"] == "host"
    assert sorted(await online()) == ["alice", "host"]

    # an open connection refreshes the presence (every 0.5 s here)
    for _ in range(50):
        if await _last_seen(rt_server, "alice") > first_seen:
            break
        await asyncio.sleep(0.1)
    assert await _last_seen(rt_server, "alice") > first_seen

    await second.close()
    offline = await observer.message("participant_update")
    assert offline["participant"]["id"] == "alice"
    assert offline["participant"]["online"] is False
    assert await online() == ["host"]
    await host_cable.close()
    await observer.close()


async def _last_seen(rt_server: RtServer, user_id: str) -> datetime:
    async with rt_server.state.db.uow() as uow:
        found = await uow.session.scalar(select(Participant).where(Participant.user_id == user_id))
        assert found is not None
        return found.last_seen_at


async def test_kick_closes_the_kicked_socket(rt_server: RtServer, acme: TeamKey) -> None:
    alice = await rt_server.room(acme, "alice")
    bob = await rt_server.room(acme, "bob")
    a = await rt_server.participant(alice["access_key"])
    b = await rt_server.participant(bob["access_key"])
    await a.joined()
    await b.joined()
    kicked = await rt_server.http.delete(f"/rooms/{alice['access_key']}/users/bob")
    assert kicked.status_code == 200
    assert await b.frame() == {"type": "disconnect", "reason": "kicked", "reconnect": False}
    await b.closed()
    await rt_server.http.post(
        f"/rooms/{alice['access_key']}/messages", data={"type": "chat", "content": "still here"}
    )
    assert (await a.message("chat"))["content"] == "still here"
    await a.close()


async def test_ending_disconnects_everyone(rt_server: RtServer, acme: TeamKey) -> None:
    alice = await rt_server.room(acme, "alice")
    bob = await rt_server.room(acme, "bob")
    a = await rt_server.participant(alice["access_key"])
    b = await rt_server.participant(bob["access_key"])
    await a.joined()
    await b.joined()
    observer = await rt_server.observer(acme)
    assert (await rt_server.http.delete(f"/rooms/{alice['access_key']}")).status_code == 204
    for cable in (a, b):
        assert await cable.frame() == ENDED
        await cable.closed()
    last = await observer.message("room_update")
    assert last["content"]["shutdown"] is True
    assert all(p["online"] is False for p in last["content"]["participants"])
    assert await observer.frame() == ENDED
    await observer.closed()

    # the access key no longer opens a connection
    late = await rt_server.participant(alice["access_key"])
    assert await late.frame() == {
        "type": "disconnect",
        "reason": "unauthorized",
        "reconnect": False,
    }
    await late.closed()
