"""The Python participant takes its ICE servers from the room response, as the web client."""

from __future__ import annotations

from vidroom.client.participant import room_ice_servers


def test_room_ice_servers_from_the_signaling_options() -> None:
    room = {
        "signaling": {
            "options": {
                "stun_servers": ["stun:stun.example.org:3478", 7],
                "turn_servers": [
                    {"urls": ["turn:turn.example.org:3478"], "username": "1:c", "password": "p"},
                    {"urls": "turns:turn.example.org:5349", "username": "1:c", "password": "p"},
                    {"urls": []},
                    "junk",
                ],
            }
        }
    }
    servers = room_ice_servers(room)
    assert [s.urls for s in servers] == [
        ["stun:stun.example.org:3478"],
        ["turn:turn.example.org:3478"],
        ["turns:turn.example.org:5349"],
    ]
    assert servers[0].username is None
    assert (servers[1].username, servers[1].credential) == ("1:c", "p")


def test_no_servers_offered_means_none() -> None:
    empty = {"signaling": {"options": {"stun_servers": [], "turn_servers": []}}}
    assert room_ice_servers(empty) == []
    assert room_ice_servers({}) == []
