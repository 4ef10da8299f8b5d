"""Crash safety: a real server is SIGKILLed while it delivers webhooks, then restarted.

Every event must still arrive (at least once) and a delivery id must never carry two different
bodies. Duplicates of one id are allowed: receivers de-duplicate on ``X-Vidroom-Delivery``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
from sqlalchemy import select

from tests.conftest import LiveServer
from tests.webhooks.receiver import Receiver
from vidroom.db.engine import create_engine
from vidroom.webhooks.models import WebhookDelivery

FAST_ENV = {
    "VIDROOM_WEBHOOKS_ALLOW_PRIVATE": "1",
    "VIDROOM_WEBHOOK_TIMEOUT_SECONDS": "2",
    "VIDROOM_WEBHOOK_LEASE_SECONDS": "3",
    "VIDROOM_WEBHOOK_POLL_SECONDS": "0.2",
    "VIDROOM_WEBHOOK_RETRY_BASE_SECONDS": "0.1",
    "VIDROOM_WEBHOOK_RETRY_CAP_SECONDS": "0.5",
}


def wait_until(check: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def event_of(body: bytes) -> tuple[str, bool, bool]:
    room = json.loads(body)["room"]
    return room["id"], room["ready"], room["shutdown"]


def statuses(database_url: str) -> list[str]:
    """The delivery rows' statuses, read straight from the server's database."""

    async def read() -> list[str]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(WebhookDelivery.status))
                return [row[0] for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_deliveries_survive_sigkill(live_server: LiveServer, database_url: str) -> None:
    receiver = Receiver().start()
    receiver.fail_first = 3
    receiver.delay = 0.3
    try:
        live_server.kill()
        live_server.env.update(FAST_ENV)
        live_server.start()
        live_server.cli("teams", "create", "acme", "--owner", "owner@acme.example")
        key = live_server.cli("apikeys", "create", "--team", "acme").splitlines()[-1].strip()

        with httpx.Client(base_url=live_server.url, headers={"Authorization": key}) as api:
            hook = api.post("/webhooks", data={"url": receiver.url + "/hook"})
            assert hook.status_code == 201, hook.text
            access_keys = []
            for i in range(6):
                room = api.post("/rooms", data={"id": f"room-{i}", "user[name]": "Ann"})
                assert room.status_code == 201, room.text
                access_keys.append(room.json()["access_key"])
            for access_key in access_keys[:3]:
                assert api.delete(f"/rooms/{access_key}").status_code == 204

        # kill while the receiver is in the middle of answering, some deliveries still to go
        wait_until(lambda: receiver.active > 0 and len(receiver.received()) >= 4, 20)
        live_server.kill()
        assert len({event_of(r.body) for r in receiver.received(status=200)}) < 15

        live_server.start()
        with httpx.Client(base_url=live_server.url, headers={"Authorization": key}) as api:
            for access_key in access_keys[3:]:
                assert api.delete(f"/rooms/{access_key}").status_code == 204

        expected = {(f"room-{i}", ready, False) for i in range(6) for ready in (False, True)}
        expected |= {(f"room-{i}", False, True) for i in range(6)}
        wait_until(
            lambda: {event_of(r.body) for r in receiver.received(status=200)} >= expected, 40
        )

        bodies_by_id: dict[str, set[bytes]] = {}
        for record in receiver.received():
            bodies_by_id.setdefault(record.headers["x-vidroom-delivery"], set()).add(record.body)
        assert all(len(bodies) == 1 for bodies in bodies_by_id.values())
        delivered_ids = {r.headers["x-vidroom-delivery"] for r in receiver.received(status=200)}
        assert len(delivered_ids) == len(expected)  # one delivery per event, none lost

        # the attempts cut off by the kill are sent again once their leases expire
        wait_until(lambda: statuses(database_url).count("delivered") == len(expected), 30)
        for record in receiver.received():
            assert bodies_by_id[record.headers["x-vidroom-delivery"]] == {record.body}

        with httpx.Client(base_url=live_server.url, headers={"Authorization": key}) as api:
            shown = api.get("/webhooks").json()
        assert shown["last_request_sent_at"] is not None
    finally:
        receiver.stop()
