"""SEPP's envelope, SDP checks and podium shapes; a slow client's bounded queue."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.eyeson.sepp.stub_media import StubMedia
from vidroom.api.eyeson.sepp import podium, protocol
from vidroom.api.eyeson.sepp.config import SeppConfig
from vidroom.api.eyeson.sepp.events import SeppMediaEvents
from vidroom.api.eyeson.sepp.hub import Hub
from vidroom.api.eyeson.sepp.session import Session
from vidroom.events.bus import MemoryBus
from vidroom.media.contract import Member, Tile
from vidroom.state import AppState


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("nope", "not JSON"),
        ("[]", "not an object"),
        ("{}", "type"),
        ('{"type": 5}', "type"),
        ('{"type": "x", "data": []}', "data"),
        ('{"type": "x", "msg_id": 1}', "msg_id"),
        ('{"type": "x", "from": {}}', "from"),
        ("[" * 70 + "]" * 70, "not an object"),
        (json.dumps({"type": "x", "data": {"a": "b" * 200}}), "exceeds"),
    ],
)
def test_bad_envelopes(frame: str, error: str) -> None:
    with pytest.raises(protocol.EnvelopeError, match=error):
        protocol.parse(frame, max_size=150)


def test_deep_nesting_is_not_json() -> None:
    with pytest.raises(protocol.EnvelopeError, match="not JSON"):
        protocol.parse("[" * 100_000, max_size=1_000_000)


def test_envelopes() -> None:
    parsed = protocol.parse(
        '{"type":"call_terminate","msg_id":"","data":{"call_id":"c"}}', max_size=999
    )
    assert (parsed.type, parsed.data, parsed.msg_id, parsed.sender) == (
        "call_terminate",
        {"call_id": "c"},
        "",
        None,
    )
    assert protocol.parse('{"type":"x"}', max_size=99).data == {}
    sent = json.loads(protocol.envelope("memberlist", {"a": 1}, conf_id="conf", client_id="cid"))
    assert sent["from"] == "conf"
    assert sent["to"] == "cid"
    assert isinstance(sent["msg_id"], str)
    assert sent["data"] == {"a": 1}


def test_sdp_checks_and_session_attribute() -> None:
    good = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    assert protocol.offer_sdp({"sdp": {"type": "offer", "sdp": good}}) == good
    for bad in (
        {},
        {"sdp": "v=0"},
        {"sdp": {"type": "answer", "sdp": good}},
        {"sdp": {"type": "offer", "sdp": "x=1"}},
        {"sdp": {"type": "offer", "sdp": "v=0\r\nt=0 0\r\n"}},
        {"sdp": {"type": "offer", "sdp": good + "a=" + "x" * 70000}},
        {"sdp": {"type": "offer", "sdp": good + "\x00"}},
    ):
        with pytest.raises(protocol.EnvelopeError):
            protocol.offer_sdp(bad)
    munged = protocol.with_sepp_messaging(good)
    assert "t=0 0\r\na=eyeson-sepp-messaging\r\nm=audio" in munged
    assert protocol.with_sepp_messaging(munged) == munged


def test_source_update() -> None:
    members = [
        Member("p1", "a", "A"),
        Member("p2", "b", "B", video_muted=True),
        Member("p3", "c", "C", presenting=True),
    ]
    tiles = [Tile("c", 0, 0, 960, 720), Tile("a", 960, 0, 320, 240), Tile("b", 960, 240, 320, 240)]
    data = podium.source_update("call", members, tiles, show_names=False)
    assert data == {
        "call_id": "call",
        "src": ["a", "b", "c"],
        "asrc": [0, 1, 2],
        "vsrc": [2, 0, -1],
        "dims": [
            {"x": 0, "y": 0, "w": 960, "h": 720},
            {"x": 960, "y": 0, "w": 320, "h": 240},
            {"x": 960, "y": 240, "w": 320, "h": 240},
        ],
        "l": 3,
        "psrc": 2,
        "dsrc": 2,
        "bcast": False,
        "tovl": False,
    }


async def test_a_slow_client_is_dropped_not_waited_for(state: AppState) -> None:
    config = SeppConfig(send_queue=4)
    hub = Hub(state.db, StubMedia(SeppMediaEvents()), config)
    websocket: Any = object()  # never written to: the writer is not running
    session = Session(
        websocket, hub, MemoryBus(), meeting_id="m", participant_id="p", client_id="c"
    )
    assert all(session.send("memberlist", {}) for _ in range(4))
    assert not session.send("memberlist", {})
    assert session.closing
    assert not session.send("memberlist", {})
