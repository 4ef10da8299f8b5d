"""Webhook fixtures: fast delivery settings, API keys, the running worker, a real receiver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

import pytest

from tests.webhooks.receiver import Receiver
from vidroom.accounts import service as accounts
from vidroom.settings import Settings
from vidroom.state import AppState
from vidroom.teams import service as teams

T = TypeVar("T")

FAST = {
    "webhooks_allow_private": True,
    "webhook_timeout_seconds": 2.0,
    "webhook_lease_seconds": 3.0,
    "webhook_poll_seconds": 0.2,
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_cap_seconds": 0.2,
    "webhook_retry_horizon_seconds": 3600.0,
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=FAST)


async def new_api_key(state: AppState, team_name: str) -> str:
    """A fresh team ``team_name`` and an API key for it (plaintext)."""
    async with state.db.uow() as uow:
        user = await accounts.get_or_create_user(uow.session, f"owner@{team_name}.example")
        team = await teams.claim(uow.session, user, team_name)
        _, key = await teams.create_api_key(uow.session, team, None)
    return key


@pytest.fixture
async def api_key(state: AppState) -> str:
    return await new_api_key(state, "acme")


@pytest.fixture
async def worker(state: AppState) -> AsyncIterator[AppState]:
    """The delivery worker, running (the ASGI test client runs no lifespan)."""
    state.webhooks.start()
    try:
        yield state
    finally:
        await state.webhooks.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


async def eventually(check: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait until ``check()`` holds (polling), or fail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def settle(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], seconds: float = 15.0
) -> T:
    """Poll ``probe()`` until ``done(value)`` or the time is up; the last value (assert on it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    value = await probe()
    while not done(value) and loop.time() < deadline:
        await asyncio.sleep(0.05)
        value = await probe()
    return value
