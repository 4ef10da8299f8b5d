"""Deliveries to a real local HTTP receiver, with the worker running, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select

from tests.webhooks.conftest import eventually, new_api_key, settle
from tests.webhooks.receiver import Received, Receiver
from vidroom.accounts import service as accounts
from vidroom.state import AppState
from vidroom.teams import service as teams
from vidroom.webhooks.models import WebhookDelivery


def auth(key: str) -> dict[str, str]:
    return {"Authorization": key}


def signed(key: str, record: Received) -> bool:
    expected = hmac.new(key.encode(), record.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, record.headers["x-eyeson-signature"])


def bodies(records: list[Received]) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in records]


async def register(client: httpx.AsyncClient, key: str, url: str, types: str | None) -> None:
    data = {"url": url} if types is None else {"url": url, "types": types}
    response = await client.post("/webhooks", data=data, headers=auth(key))
    assert response.status_code == 201, response.text


async def start_meeting(client: httpx.AsyncClient, key: str, room: str) -> str:
    response = await client.post(
        "/rooms", data={"id": room, "user[name]": "Ann"}, headers=auth(key)
    )
    assert response.status_code == 201, response.text
    access_key: str = response.json()["access_key"]
    return access_key


async def test_room_updates_arrive_signed(
    client: httpx.AsyncClient, worker: AppState, receiver: Receiver, api_key: str
) -> None:
    await register(client, api_key, receiver.url + "/hook", "room_update")
    access_key = await start_meeting(client, api_key, "standup")
    await eventually(lambda: len(receiver.received()) >= 2)
    assert (await client.delete(f"/rooms/{access_key}")).status_code == 204
    await eventually(lambda: len(receiver.received()) >= 3)

    records = receiver.received()
    assert len(records) == 3
    for record in records:
        assert record.method == "POST"
        assert record.path == "/hook"
        assert record.headers["content-type"] == "application/json"
        assert record.headers["user-agent"] == "vidroom-webhooks"
        assert len(record.headers["x-vidroom-delivery"]) == 24
        assert signed(api_key, record)
    assert len({r.headers["x-vidroom-delivery"] for r in records}) == 3
    payloads = bodies(records)
    for body in payloads:
        assert set(body) == {"timestamp", "type", "room"}
        assert body["type"] == "room_update"
        assert isinstance(body["timestamp"], int)
        assert body["room"]["id"] == "standup"
        assert set(body["room"]) >= {"id", "name", "ready", "started_at", "shutdown", "guest_token"}
    states = sorted((b["room"]["ready"], b["room"]["shutdown"]) for b in payloads)
    assert states == [(False, False), (False, True), (True, False)]

    async def shown() -> dict[str, Any]:
        hook = (await client.get("/webhooks", headers=auth(api_key))).json()
        assert isinstance(hook, dict)
        return hook

    hook = await settle(shown, lambda h: h["last_response_code"] == "200")
    assert hook["last_response_code"] == "200"
    assert hook["last_request_sent_at"].endswith("+00:00")
    datetime.fromisoformat(hook["last_request_sent_at"])


async def test_participant_updates_and_type_filter(
    client: httpx.AsyncClient, worker: AppState, receiver: Receiver, api_key: str
) -> None:
    await register(client, api_key, receiver.url + "/people", "participant_update")
    access_key = await start_meeting(client, api_key, "daily")
    response = await client.post(
        "/rooms",
        data={"id": "daily", "user[name]": "Bob", "user[id]": "bob"},
        headers=auth(api_key),
    )
    assert response.status_code == 201
    kicked = await client.delete(f"/rooms/{access_key}/users/bob")
    assert kicked.status_code == 200
    await eventually(lambda: len(receiver.received()) >= 1)
    [record] = receiver.received()
    body = json.loads(record.body)
    assert body["type"] == "participant_update"
    assert body["participant"] == {
        "id": "bob",
        "room_id": "daily",
        "name": "Bob",
        "avatar": None,
        "guest": False,
        "online": False,
    }
    assert signed(api_key, record)


async def test_only_the_teams_own_meetings(
    client: httpx.AsyncClient,
    state: AppState,
    worker: AppState,
    receiver: Receiver,
    api_key: str,
) -> None:
    other = await new_api_key(state, "globex")
    await register(client, api_key, receiver.url + "/acme", None)
    await register(client, other, receiver.url + "/globex", None)
    await start_meeting(client, api_key, "acme-room")
    await eventually(lambda: len(receiver.received("/acme")) >= 2)
    await start_meeting(client, other, "globex-room")
    await eventually(lambda: len(receiver.received("/globex")) >= 2)
    assert {json.loads(r.body)["room"]["id"] for r in receiver.received("/acme")} == {"acme-room"}
    assert {json.loads(r.body)["room"]["id"] for r in receiver.received("/globex")} == {
        "globex-room"
    }
    assert all(signed(api_key, r) for r in receiver.received("/acme"))
    assert all(signed(other, r) for r in receiver.received("/globex"))


async def test_replacing_drops_pending_deliveries(
    client: httpx.AsyncClient, state: AppState, receiver: Receiver, api_key: str
) -> None:
    await register(client, api_key, receiver.url + "/old", None)
    await start_meeting(client, api_key, "r1")  # worker not running yet: deliveries wait
    async with state.db.uow() as uow:
        pending = list(await uow.session.scalars(select(WebhookDelivery)))
    assert len(pending) == 2
    assert {d.status for d in pending} == {"pending"}

    await register(client, api_key, receiver.url + "/new", None)
    async with state.db.uow() as uow:
        assert list(await uow.session.scalars(select(WebhookDelivery))) == []

    state.webhooks.start()
    try:
        await start_meeting(client, api_key, "r2")
        await eventually(lambda: len(receiver.received("/new")) >= 2)
    finally:
        await state.webhooks.stop()
    assert receiver.received("/old") == []
    assert {json.loads(r.body)["room"]["id"] for r in receiver.received()} == {"r2"}


async def test_a_rolled_back_change_delivers_nothing(
    client: httpx.AsyncClient, state: AppState, worker: AppState, receiver: Receiver, api_key: str
) -> None:
    await register(client, api_key, receiver.url + "/hook", None)
    # a failing request (missing user name) after the meeting would have started: rolled back
    response = await client.post("/rooms", data={"id": "never"}, headers=auth(api_key))
    assert response.status_code == 400
    async with state.db.uow() as uow:
        assert list(await uow.session.scalars(select(WebhookDelivery))) == []
    await start_meeting(client, api_key, "real")
    await eventually(lambda: len(receiver.received()) >= 2)
    assert {json.loads(r.body)["room"]["id"] for r in receiver.received()} == {"real"}


async def test_a_commit_wakes_the_worker(
    client: httpx.AsyncClient, state: AppState, receiver: Receiver, api_key: str
) -> None:
    """No waiting for the next poll: the commit that creates deliveries wakes the worker."""
    state.webhooks.config = dataclasses.replace(state.webhooks.config, poll=30.0)
    await register(client, api_key, receiver.url + "/hook", "room_update")
    state.webhooks.start()
    try:
        await asyncio.sleep(0.3)  # the worker has looked once and sleeps now
        started = asyncio.get_running_loop().time()
        await start_meeting(client, api_key, "prompt")
        await eventually(lambda: len(receiver.received()) >= 2, seconds=5)
        assert asyncio.get_running_loop().time() - started < 3.0
    finally:
        await state.webhooks.stop()


async def test_a_revoked_keys_webhook_is_silent(
    client: httpx.AsyncClient, state: AppState, worker: AppState, receiver: Receiver, api_key: str
) -> None:
    async with state.db.uow() as uow:
        owner = await accounts.get_or_create_user(uow.session, "owner@acme.example")
        team = await teams.get(uow.session, "acme")
        revoked_row, revoked_key = await teams.create_api_key(uow.session, team, None)
    await register(client, revoked_key, receiver.url + "/revoked", None)
    await register(client, api_key, receiver.url + "/live", None)
    async with state.db.uow() as uow:
        await teams.revoke_api_key(uow.session, team, owner, revoked_row.id)
    await start_meeting(client, api_key, "after-revocation")
    await eventually(lambda: len(receiver.received("/live")) >= 2)
    await asyncio.sleep(0.3)
    assert receiver.received("/revoked") == []
