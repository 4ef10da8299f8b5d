"""ActionCable's handshake and framing over a real websocket: subprotocol, welcome, pings,
subscriptions echoed byte for byte, and hostile frames that change nothing."""

from __future__ import annotations

import contextlib
import json
import logging
import time

import pytest

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import ROOM, USER, Cable, RtServer
from vidroom.api.eyeson.realtime import protocol, redaction

ODD = '{ "channel" :"RoomChannel",  "x":1 }'  # unusual spacing: must come back exactly


async def test_handshake_confirm_and_pings(rt_server: RtServer, acme: TeamKey) -> None:
    room = await rt_server.room(acme, "alice")
    cable = await rt_server.participant(room["access_key"])
    assert cable.conn.subprotocol == "actioncable-v1-json"
    assert await cable.frame() == {"type": "welcome"}

    confirm = await cable.subscribe(ODD)
    assert confirm == {"identifier": ODD, "type": "confirm_subscription"}
    setup = await cable.frame()
    assert setup["identifier"] == ODD
    assert setup["message"]["type"] == "room_setup"
    # events come on the identifier exactly as subscribed
    await rt_server.http.post(
        f"/rooms/{room['access_key']}/messages", data={"type": "chat", "content": "x"}
    )
    chat = await cable.frame()
    assert chat["identifier"] == ODD
    assert chat["message"]["type"] == "chat"

    assert await cable.subscribe(USER) == {"identifier": USER, "type": "confirm_subscription"}
    for unknown in ('{"channel":"AdminChannel"}', "not json", '["RoomChannel"]', '{"c":1}'):
        assert await cable.subscribe(unknown) == {
            "identifier": unknown,
            "type": "reject_subscription",
        }

    before = len(cable.pings)
    with contextlib.suppress(TimeoutError):
        await cable.frame(wait=1.0)  # nothing else comes: pings every 0.3 s here (3 s usually)
    assert len(cable.pings) >= before + 2
    assert all(isinstance(p, int) and abs(p - time.time()) < 5 for p in cable.pings)
    await cable.close()


@pytest.mark.parametrize(
    ("offered", "selected"),
    [
        (["actioncable-v1.1-json", "actioncable-v1-json", "actioncable-unsupported"], "v1"),
        (["actioncable-v1-json"], "v1"),
        (["actioncable-v1.1-json", "actioncable-unsupported"], None),
    ],
)
async def test_subprotocol_selection(
    rt_server: RtServer, acme: TeamKey, offered: list[str], selected: str | None
) -> None:
    room = await rt_server.room(acme, "alice")
    cable = await rt_server.participant(room["access_key"], protocols=offered)
    assert cable.conn.subprotocol == ("actioncable-v1-json" if selected else None)
    assert await cable.frame() == {"type": "welcome"}
    await cable.close()


async def test_unsubscribe_stops_events(rt_server: RtServer, acme: TeamKey) -> None:
    room = await rt_server.room(acme, "alice")
    cable = await rt_server.participant(room["access_key"])
    await cable.joined()
    await cable.send({"command": "unsubscribe", "identifier": ROOM})
    await cable.send({"command": "unsubscribe", "identifier": USER})
    # a round trip: the unsubscriptions are done once this is confirmed
    assert (await cable.subscribe(USER))["type"] == "confirm_subscription"
    await rt_server.http.post(
        f"/rooms/{room['access_key']}/messages", data={"type": "chat", "content": "lost"}
    )
    assert (await cable.subscribe(ODD))["type"] == "confirm_subscription"
    assert (await cable.frame())["message"]["type"] == "room_setup"
    await rt_server.http.post(
        f"/rooms/{room['access_key']}/messages", data={"type": "chat", "content": "seen"}
    )
    chat = await cable.frame()
    assert chat["identifier"] == ODD
    assert chat["message"]["content"] == "seen"
    await cable.close()


async def test_hostile_frames_are_ignored_then_cut_off(rt_server: RtServer, acme: TeamKey) -> None:
    room = await rt_server.room(acme, "alice")
    cable = await rt_server.participant(room["access_key"])
    await cable.joined()
    hostile: list[str | bytes] = [
        "not json",
        "[]",
        "null",
        '{"command":"explode","identifier":"{}"}',
        '{"command":"subscribe","identifier":42}',
        '{"command":"subscribe","identifier":""}',
        json.dumps({"command": "subscribe", "identifier": "{" * 5000}),
        json.dumps({"command": "message", "identifier": ROOM, "data": "{nope"}),
        json.dumps({"command": "message", "identifier": ROOM, "data": "[1]"}),
        json.dumps({"command": "message", "identifier": '{"channel":"Nope"}', "data": "{}"}),
        json.dumps({"command": "message", "identifier": ROOM, "data": "{}"}),
        "[" * 100_000,
        b"\xff\xfe\x00garbage",
    ]
    for frame in hostile[:9]:
        await cable.conn.send(frame)
    # still served: an unknown action is fine, a subscription still works
    await cable.act({"action": "dance"})
    assert await cable.subscribe('{"channel":"UserChannel","n":2}') == {
        "identifier": '{"channel":"UserChannel","n":2}',
        "type": "confirm_subscription",
    }
    for frame in hostile[9:]:
        await cable.conn.send(frame)
    assert await cable.frame() == {
        "type": "disconnect",
        "reason": "invalid_request",
        "reconnect": False,
    }
    await cable.closed()


def test_parse_rules() -> None:
    command = protocol.parse(
        json.dumps({"command": "message", "identifier": ODD, "data": '{"action":"stfu"}'}),
        max_size=1000,
    )
    assert command.channel == "RoomChannel"
    assert command.identifier == ODD
    assert command.data == {"action": "stfu"}
    # an object as data is accepted too (lenient)
    assert protocol.parse(
        json.dumps({"command": "message", "identifier": ROOM, "data": {"action": "x"}}),
        max_size=1000,
    ).data == {"action": "x"}
    with pytest.raises(protocol.FrameError):
        protocol.parse("x" * 1001, max_size=1000)
    assert protocol.choose_subprotocol(["key123", "actioncable-v1-json"]) == (
        "actioncable-v1-json",
        ["key123"],
    )
    assert protocol.choose_subprotocol(["actioncable-unsupported"]) == (None, [])


async def test_unauthenticated_cable_gets_no_welcome(rt_server: RtServer) -> None:
    cable = await Cable.open(rt_server.ws)
    assert await cable.frame() == {
        "type": "disconnect",
        "reason": "unauthorized",
        "reconnect": False,
    }
    await cable.closed()


def test_credentials_stay_out_of_the_server_log(caplog: pytest.LogCaptureFixture) -> None:
    redaction.redact_websocket_logs()
    redaction.redact_websocket_logs()  # idempotent
    logger = logging.getLogger("uvicorn.error")
    assert logger.filters.count(redaction._FILTER) == 1
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level(logging.INFO, logger="uvicorn.error"):
            logger.info(
                '%s - "WebSocket %s" [accepted]',
                "127.0.0.1:5000",
                "/rt?room_id=r1&api_key=SECRET1&x=1",
            )
            logger.info('"WebSocket /rt?access_key=SECRET2" 403')
            logger.info('"WebSocket /call?auth_token=SECRET3.x.y" 401')
    finally:
        logger.removeHandler(caplog.handler)
    text = caplog.text
    assert "SECRET" not in text
    assert "api_key=[redacted]&x=1" in text
    assert "access_key=[redacted]" in text
    assert "auth_token=[redacted]" in text


async def test_a_command_flood_is_cut_off(rt_server: RtServer, acme: TeamKey) -> None:
    room = await rt_server.room(acme, "alice")
    cable = await rt_server.participant(room["access_key"])
    await cable.joined()
    for _ in range(60):  # far beyond 10 per second (bursts of 20)
        await cable.act({"action": "dance"})
    frame = await cable.frame()
    assert frame == {"type": "disconnect", "reason": "invalid_request", "reconnect": False}
    await cable.closed()
