"""Fixtures for the meeting API: a team with an API key."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vidroom.accounts import service as accounts
from vidroom.state import AppState
from vidroom.teams import service as teams


@dataclass(frozen=True)
class TeamKey:
    team: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": self.key}


async def make_team_key(state: AppState, name: str) -> TeamKey:
    async with state.db.uow() as uow:
        owner = await accounts.get_or_create_user(uow.session, f"owner@{name}.example.com")
        team = await teams.claim(uow.session, owner, name)
        _, key = await teams.create_api_key(uow.session, team, None)
    return TeamKey(name, key)


@pytest.fixture
async def acme(state: AppState) -> TeamKey:
    return await make_team_key(state, "acme")


@pytest.fixture
async def globex(state: AppState) -> TeamKey:
    return await make_team_key(state, "globex")
