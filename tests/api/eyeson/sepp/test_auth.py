"""Who may open ``/call``: the upgrade is refused with an HTTP status (and the meeting goes on)."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.sepp.conftest import TIMEOUT, SeppServer
from tests.conftest import SECRET
from vidroom.kit import signaling_token


async def refused(url: str, **kwargs: Any) -> int:
    with pytest.raises(InvalidStatus) as caught:
        async with connect(url, open_timeout=TIMEOUT, **kwargs):
            pass
    status: int = caught.value.response.status_code
    return status


def token(room: Any, **claims: Any) -> str:
    options = room["signaling"]["options"]
    return signaling_token.issue(
        claims.pop("secret", SECRET),
        client_id=claims.pop("client_id", options["client_id"]),
        conf_id=claims.pop("conf_id", options["conf_id"]),
        **claims,
    )


async def test_no_token_is_refused(sepp: SeppServer) -> None:
    assert await refused(sepp.ws) == 401
    assert await refused(f"{sepp.ws}?auth_token=") == 401
    assert await refused(sepp.ws, additional_headers={"Authorization": "Bearer"}) == 401


async def test_garbage_forged_and_expired_tokens_are_refused(
    sepp: SeppServer, acme: TeamKey
) -> None:
    room = await sepp.room(acme, "alice")
    forged = token(room, secret="another-secret-that-is-long-enough-0123456789")
    expired = token(room, ttl_seconds=-30)
    for bad in ("garbage", "a.b.c", forged, expired, "x" * 5000):
        assert await refused(f"{sepp.ws}?auth_token={bad}") == 401, bad[:20]
    assert await refused(sepp.ws, additional_headers={"Authorization": f"Bearer {forged}"}) == 401


async def test_tokens_naming_nobody_are_refused(sepp: SeppServer, acme: TeamKey) -> None:
    room = await sepp.room(acme, "alice")
    other = await sepp.room(acme, "bob", room_id="r2")
    for bad in (
        token(room, client_id="0" * 24),
        token(room, conf_id="0" * 24),
        # a real participant, but of another meeting
        token(room, client_id=other["signaling"]["options"]["client_id"]),
    ):
        assert await refused(f"{sepp.ws}?auth_token={bad}") == 401


async def test_meeting_over_is_gone(sepp: SeppServer, acme: TeamKey) -> None:
    room = await sepp.room(acme, "alice")
    assert (await sepp.http.delete(f"/rooms/{room['access_key']}")).status_code == 204
    options = room["signaling"]["options"]
    assert await refused(f"{sepp.ws}?auth_token={options['auth_token']}") == 410


async def test_query_token_and_bearer_header_are_accepted_without_subprotocol(
    sepp: SeppServer, acme: TeamKey
) -> None:
    room = await sepp.room(acme, "alice")
    options = room["signaling"]["options"]
    assert options["endpoint"] == sepp.ws
    async with connect(
        sepp.ws,
        additional_headers={"Authorization": f"Bearer {options['auth_token']}"},
        subprotocols=["sepp"],  # type: ignore[list-item]
        open_timeout=TIMEOUT,
    ) as conn:
        assert conn.subprotocol is None
        await (await conn.ping())  # the server answers pings
    sock = await sepp.sock(room)
    await sock.conn.close()


async def test_without_a_media_server_the_socket_is_unavailable(
    sepp: SeppServer, acme: TeamKey
) -> None:
    room = await sepp.room(acme, "alice")
    del sepp.app.state.sepp
    options = room["signaling"]["options"]
    assert await refused(f"{sepp.ws}?auth_token={options['auth_token']}") == 503
