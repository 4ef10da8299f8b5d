"""Signatures, sealed signing keys, and the worker's resilience to a failing database."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests.webhooks.conftest import eventually, settle
from tests.webhooks.receiver import Receiver
from vidroom.state import AppState
from vidroom.webhooks import repository, signing
from vidroom.webhooks.delivery import DeliveryWorker, WorkerConfig
from vidroom.webhooks.models import WebhookDelivery


async def deliveries(state: AppState) -> list[WebhookDelivery]:
    async with state.db.uow() as uow:
        return list(await uow.session.scalars(select(WebhookDelivery)))


def test_signature_is_hex_hmac_sha256_of_the_body() -> None:
    body = b'{"timestamp":1,"type":"room_update","room":{}}'
    expected = hmac.new(b"the-api-key", body, hashlib.sha256).hexdigest()
    assert signing.signature("the-api-key", body) == expected


def test_sealed_keys_open_only_with_the_same_secret() -> None:
    sealed = signing.seal("server-secret-one-0123456789abcdef", "the-api-key")
    assert "the-api-key" not in sealed
    assert signing.unseal("server-secret-one-0123456789abcdef", sealed) == "the-api-key"
    assert signing.seal("server-secret-one-0123456789abcdef", "the-api-key") != sealed  # fresh IV
    with pytest.raises(signing.UnreadableKey):
        signing.unseal("server-secret-two-0123456789abcdef", sealed)
    with pytest.raises(signing.UnreadableKey):
        signing.unseal("server-secret-one-0123456789abcdef", "garbage")


async def _hook_and_meeting(client: httpx.AsyncClient, key: str, url: str) -> None:
    headers = {"Authorization": key}
    assert (await client.post("/webhooks", data={"url": url}, headers=headers)).status_code == 201
    response = await client.post("/rooms", data={"user[name]": "Ann"}, headers=headers)
    assert response.status_code == 201


async def test_changed_server_secret_fails_without_sending(
    client: httpx.AsyncClient, state: AppState, receiver: Receiver, api_key: str
) -> None:
    await _hook_and_meeting(client, api_key, receiver.url + "/hook")
    config = WorkerConfig.from_settings(state.settings)
    worker = DeliveryWorker(state.db, "a-different-server-secret-0123456789", config)
    worker.start()
    try:
        rows = await settle(
            lambda: deliveries(state),
            lambda rows: bool(rows) and all(d.status == "failed" for d in rows),
        )
    finally:
        await worker.stop()
    assert rows
    assert all(d.status == "failed" and "decrypted" in (d.last_error or "") for d in rows)
    assert receiver.received() == []


async def test_worker_survives_database_errors(
    client: httpx.AsyncClient,
    state: AppState,
    receiver: Receiver,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _hook_and_meeting(client, api_key, receiver.url + "/hook")
    real = repository.claim_due
    failures = 0

    async def flaky(session: object, *, now: datetime, lease_until: datetime, limit: int) -> object:
        nonlocal failures
        if failures < 3:
            failures += 1
            raise OperationalError("UPDATE ...", {}, Exception("database is locked"))
        return await real(session, now=now, lease_until=lease_until, limit=limit)  # type: ignore[arg-type]

    monkeypatch.setattr(repository, "claim_due", flaky)
    state.webhooks.start()
    try:
        await eventually(lambda: len(receiver.received()) >= 2)
    finally:
        await state.webhooks.stop()
    assert failures == 3
