"""Dial-in PINs: six digits, unique over the whole installation, stable for a room's life."""

from __future__ import annotations

import re

import pytest

from vidroom.accounts import service as accounts
from vidroom.rooms import service as rooms
from vidroom.state import AppState
from vidroom.teams import service as teams


async def test_pins_are_unique_over_thousands_of_rooms(state: AppState) -> None:
    pins: list[str] = []
    async with state.db.uow() as uow:
        owner = await accounts.get_or_create_user(uow.session, "pins@example.com")
        for t in range(6):
            team = await teams.claim(uow.session, owner, f"team-{t}")
            for r in range(500):
                room = await rooms.create(uow.session, team, owner, name=f"room-{r}")
                pins.append(room.dial_in_pin)
    assert len(pins) == 3000
    assert len(set(pins)) == 3000
    assert all(re.fullmatch(r"[1-9]\d{5}", pin) for pin in pins)
    async with state.db.uow() as uow:
        team = await teams.get(uow.session, "team-3")
        stored = [room.dial_in_pin for room in await rooms.list_rooms(uow.session, team)]
    assert stored == pins[1500:2000]


async def test_a_taken_pin_is_never_handed_out_again(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with state.db.uow() as uow:
        owner = await accounts.get_or_create_user(uow.session, "pins@example.com")
        team = await teams.claim(uow.session, owner, "acme")
        first = await rooms.create(uow.session, team, owner, name="one")
    draws = iter([first.dial_in_pin, first.dial_in_pin, "654321"])
    monkeypatch.setattr(rooms, "_random_pin", lambda: next(draws))
    async with state.db.uow() as uow:
        team = await teams.get(uow.session, "acme")
        owner = await accounts.get_or_create_user(uow.session, "pins@example.com")
        second = await rooms.create(uow.session, team, owner, name="two")
    assert second.dial_in_pin == "654321"


async def test_exhausted_pins_give_a_clear_error(
    state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidroom.errors import ErrorKind, VidroomError

    async with state.db.uow() as uow:
        owner = await accounts.get_or_create_user(uow.session, "pins@example.com")
        team = await teams.claim(uow.session, owner, "acme")
        first = await rooms.create(uow.session, team, owner, name="one")
    monkeypatch.setattr(rooms, "_random_pin", lambda: first.dial_in_pin)
    async with state.db.uow() as uow:
        team = await teams.get(uow.session, "acme")
        with pytest.raises(VidroomError) as caught:
            await rooms.create(uow.session, team, owner, name="two")
    assert caught.value.kind is ErrorKind.unavailable
    assert caught.value.code == "pins_exhausted"
