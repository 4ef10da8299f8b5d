"""Retries, leases and failure handling of the delivery worker (real receiver, both databases)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import free_port
from tests.webhooks.conftest import eventually, new_api_key, settle
from tests.webhooks.receiver import Receiver
from vidroom.kit.clock import utc_now
from vidroom.state import AppState
from vidroom.webhooks import repository
from vidroom.webhooks.delivery import DeliveryWorker, RetryPolicy, WorkerConfig
from vidroom.webhooks.models import WebhookDelivery


def auth(key: str) -> dict[str, str]:
    return {"Authorization": key}


async def setup_hook(client: httpx.AsyncClient, key: str, url: str) -> None:
    response = await client.post("/webhooks", data={"url": url}, headers=auth(key))
    assert response.status_code == 201, response.text


async def start_meeting(client: httpx.AsyncClient, key: str, room: str) -> None:
    response = await client.post(
        "/rooms", data={"id": room, "user[name]": "Ann"}, headers=auth(key)
    )
    assert response.status_code == 201, response.text


async def deliveries(state: AppState) -> list[WebhookDelivery]:
    async with state.db.uow() as uow:
        return list(await uow.session.scalars(select(WebhookDelivery)))


async def test_receiver_down_then_up(
    client: httpx.AsyncClient, worker: AppState, api_key: str
) -> None:
    port = free_port()
    await setup_hook(client, api_key, f"http://127.0.0.1:{port}/hook")
    for room in ("a", "b", "c"):
        await start_meeting(client, api_key, room)

    rows = await settle(
        lambda: deliveries(worker),
        lambda rows: len(rows) == 6 and all(d.attempts >= 2 for d in rows),
    )
    assert all(d.status == "pending" and d.attempts >= 2 for d in rows)
    assert all(d.last_error and "connect" in d.last_error for d in rows)

    receiver = Receiver(port).start()
    try:
        await eventually(lambda: len(receiver.received(status=200)) >= 6)
    finally:
        receiver.stop()
    got = receiver.received()
    assert len({r.headers["x-vidroom-delivery"] for r in got}) == 6
    assert {(json.loads(r.body)["room"]["id"]) for r in got} == {"a", "b", "c"}
    rows = await settle(
        lambda: deliveries(worker), lambda rows: all(d.status == "delivered" for d in rows)
    )
    assert all(d.status == "delivered" and d.delivered_at is not None for d in rows)


async def test_errors_are_retried_with_the_same_id_and_body(
    client: httpx.AsyncClient, worker: AppState, receiver: Receiver, api_key: str
) -> None:
    receiver.fail_first = 5
    await setup_hook(client, api_key, receiver.url + "/hook")
    await start_meeting(client, api_key, "flaky")
    await eventually(lambda: len(receiver.received(status=200)) >= 2)
    by_id: dict[str, set[bytes]] = {}
    for record in receiver.received():
        by_id.setdefault(record.headers["x-vidroom-delivery"], set()).add(record.body)
    assert len(by_id) == 2
    assert all(len(b) == 1 for b in by_id.values())
    assert len(receiver.received(status=500)) == 5
    rows = await settle(
        lambda: deliveries(worker), lambda rows: all(d.status == "delivered" for d in rows)
    )
    assert sum(d.attempts for d in rows) == 7
    assert all(d.last_response_code == "200" for d in rows)


async def test_a_hanging_receiver_does_not_block_others(
    client: httpx.AsyncClient, state: AppState, receiver: Receiver, api_key: str
) -> None:
    state.webhooks.config = dataclasses.replace(state.webhooks.config, timeout=4.0)
    slow = Receiver().start()
    slow.delay = 6.0  # longer than the attempt timeout
    state.webhooks.start()
    try:
        other = await new_api_key(state, "globex")
        await setup_hook(client, api_key, slow.url + "/slow")
        await setup_hook(client, other, receiver.url + "/fast")
        await start_meeting(client, api_key, "stuck")
        await eventually(lambda: slow.active >= 2, seconds=5)  # the slow attempts hang now
        started = asyncio.get_running_loop().time()
        await start_meeting(client, other, "fine")
        await eventually(lambda: len(receiver.received("/fast")) >= 2, seconds=5)
        # delivered while the slow attempts still hang (they time out after 4 s)
        assert asyncio.get_running_loop().time() - started < 3.0
        assert slow.received() == []

        async def timed_out() -> bool:
            rows = [d for d in await deliveries(state) if "stuck" in d.body]
            return bool(rows) and all(d.last_error and "timed out" in d.last_error for d in rows)

        assert await settle(timed_out, bool)
    finally:
        await state.webhooks.stop()
        slow.stop()


async def test_gives_up_after_the_horizon(
    client: httpx.AsyncClient, state: AppState, api_key: str
) -> None:
    await setup_hook(client, api_key, f"http://127.0.0.1:{free_port()}/nobody")
    await start_meeting(client, api_key, "lost")
    config = WorkerConfig(
        timeout=1.0,
        poll=0.05,
        allow_private=True,
        retry=RetryPolicy(base=0.05, cap=0.1, horizon=2.0),  # room for retries under load
    )
    worker = DeliveryWorker(state.db, state.settings.ensure_secret_key(), config)
    worker.start()
    try:
        rows = await settle(
            lambda: deliveries(state), lambda rows: all(d.status == "failed" for d in rows)
        )
    finally:
        await worker.stop()
    assert rows
    assert all(d.status == "failed" and d.attempts >= 2 for d in rows)


async def test_an_expired_lease_is_delivered_again_with_the_same_id(
    client: httpx.AsyncClient, state: AppState, receiver: Receiver, api_key: str
) -> None:
    """What a crash mid-delivery leaves behind: claimed rows nobody finishes."""
    await setup_hook(client, api_key, receiver.url + "/hook")
    await start_meeting(client, api_key, "crash")
    now = utc_now()
    async with state.db.uow() as uow:
        held = await repository.claim_due(
            uow.session, now=now, lease_until=now + timedelta(seconds=1), limit=10
        )
    assert len(held) == 2
    state.webhooks.start()
    try:
        await asyncio.sleep(0.5)
        assert receiver.received() == []  # still leased
        await eventually(lambda: len(receiver.received()) >= 2, seconds=5)
    finally:
        await state.webhooks.stop()
    assert {r.headers["x-vidroom-delivery"] for r in receiver.received()} == set(held)


async def test_claims_are_exclusive(
    client: httpx.AsyncClient, state: AppState, api_key: str
) -> None:
    await setup_hook(client, api_key, "https://8.8.8.8/hook")
    for i in range(8):
        await start_meeting(client, api_key, f"room-{i}")
    assert len(await deliveries(state)) == 16
    now = utc_now()

    async def claim(n: int) -> list[str]:
        async with state.db.uow() as uow:
            return await repository.claim_due(
                uow.session, now=now, lease_until=now + timedelta(seconds=60 + n), limit=12
            )

    first, second = await asyncio.gather(claim(1), claim(2))
    assert not set(first) & set(second)
    assert len(first) + len(second) == 16
    async with state.db.uow() as uow:
        assert (
            await repository.claim_due(
                uow.session, now=now, lease_until=now + timedelta(seconds=60), limit=12
            )
            == []
        )
    # an outcome is recorded only under the lease that was taken
    async with state.db.uow() as uow:
        stale = await repository.finish_attempt(
            uow.session, first[0], now + timedelta(seconds=5), values={}
        )
        fresh = await repository.finish_attempt(
            uow.session, first[0], now + timedelta(seconds=61), values={}
        )
    assert (stale, fresh) == (False, True)


def test_retry_policy_backoff() -> None:
    policy = RetryPolicy(base=2, factor=2, cap=600, horizon=3600, rng=random.Random(7))
    assert [policy.ceiling(n) for n in (1, 2, 3, 10, 50)] == [2, 4, 8, 600, 600]
    created = datetime(2024, 1, 1, tzinfo=UTC)
    now = created + timedelta(minutes=5)
    for attempts in range(1, 30):
        at = policy.next_attempt(attempts=attempts, now=now, created_at=created)
        assert at is not None
        assert now <= at <= now + timedelta(seconds=policy.ceiling(attempts))
    # never past the horizon, and nothing after it
    late = created + timedelta(seconds=3599)
    at = policy.next_attempt(attempts=20, now=late, created_at=created)
    assert at is not None
    assert at <= created + timedelta(hours=1)
    assert (
        policy.next_attempt(attempts=20, now=created + timedelta(hours=1), created_at=created)
        is None
    )
    assert RetryPolicy().horizon >= 3600


def test_retry_delays_are_jittered() -> None:
    policy = RetryPolicy(rng=random.Random(1))
    now = datetime(2024, 1, 1, tzinfo=UTC)
    seen = {policy.next_attempt(attempts=8, now=now, created_at=now) for _ in range(20)}
    assert len(seen) == 20


@pytest.mark.parametrize("seconds", [0.0, 1.0])
def test_lease_outlives_an_attempt(seconds: float) -> None:
    assert WorkerConfig(timeout=10, lease=seconds).effective_lease > 10
