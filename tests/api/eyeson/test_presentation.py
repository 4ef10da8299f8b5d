"""``/rooms/<ak>/presentation``: the presenter takes the big spot, others get 409,
``presentation_update`` reaches the observers (slides: test_slides.py)."""

# ruff: noqa: F811 - the fixtures imported below are parameters of the tests
from __future__ import annotations

from tests.api.eyeson.conftest import TeamKey
from tests.api.eyeson.realtime.conftest import Cable
from tests.api.eyeson.sepp.conftest import SeppServer
from tests.api.eyeson.test_layout import join, near, rgb_at, until_frame
from tests.client.conftest import GREEN, RED, _loopback, media_server  # noqa: F401 - fixtures


async def test_present_conflict_and_stop(media_server: SeppServer, acme: TeamKey) -> None:
    alice, room = await join(media_server, acme, "alice", RED)
    bob, bob_room = await join(media_server, acme, "bob", GREEN)
    http = media_server.http
    ak, bob_ak = room["access_key"], bob_room["access_key"]
    ws = media_server.base.replace("http://", "ws://") + "/rt?room_id=r1"
    cable = await Cable.open(ws, additional_headers=acme.auth)
    try:
        assert await cable.frame() == {"type": "welcome"}
        assert (await cable.subscribe())["type"] == "confirm_subscription"
        # bob joined last: alice presenting puts her in the big spot on top
        assert (await http.post(f"/rooms/{ak}/presentation")).status_code == 201
        update = await cable.message("presentation_update", wait=10)
        assert update["presentation"]["user"]["id"] == "alice"
        assert update["presentation"]["room"]["id"] == "r1"
        await until_frame(
            bob, lambda f: near(rgb_at(f, 0.5, 0.4), RED) and near(rgb_at(f, 0.5, 0.9), GREEN)
        )
        # the room response says who presents (§2.8)
        shown = (await http.get(f"/rooms/{bob_ak}")).json()["presentation"]
        assert shown["user"]["id"] == "alice"
        assert shown["room"]["id"] == "r1"
        assert (await http.post(f"/rooms/{ak}/presentation")).status_code == 201  # again: ok
        again = await cable.message("presentation_update", wait=10)
        assert again["presentation"]["user"]["id"] == "alice"
        assert again["presentation"]["slide"] is None
        r = await http.post(f"/rooms/{bob_ak}/presentation")
        assert r.status_code == 409, r.text
        assert r.json()["error"]
        assert (await http.put(f"/rooms/{ak}/presentation")).status_code == 400
        assert (await http.post("/rooms/nope/presentation")).status_code == 404

        assert (await http.delete(f"/rooms/{bob_ak}/presentation")).status_code == 200
        update = await cable.message("presentation_update", wait=10)
        assert update["presentation"] is None
        # back to the grid: side by side
        await until_frame(
            bob, lambda f: near(rgb_at(f, 0.25, 0.5), RED) and near(rgb_at(f, 0.75, 0.5), GREEN)
        )
        assert (await http.get(f"/rooms/{ak}")).json()["presentation"] is None
        assert (await http.post(f"/rooms/{bob_ak}/presentation")).status_code == 201
        update = await cable.message("presentation_update", wait=10)
        assert update["presentation"]["user"]["id"] == "bob"
        # the presenter leaving ends the presentation for everyone
        await bob.close()
        update = await cable.message("presentation_update", wait=10)
        assert update["presentation"] is None
    finally:
        await cable.close()
        for p in (alice, bob):
            await p.close()
