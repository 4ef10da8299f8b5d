"""Presence as the union of live connections: the registry, and ``set_online`` waiting for the
last connection before taking a participant offline."""

from __future__ import annotations

import httpx

from tests.api.eyeson.conftest import make_team_key
from vidroom.meetings import live, repository
from vidroom.meetings.presence import CALL, REALTIME, Presence, presence
from vidroom.state import AppState


def test_the_registry_counts_connections_by_kind() -> None:
    held = Presence()
    assert not held.held("p")
    assert held.release("p", REALTIME)  # releasing what was never held is harmless
    held.hold("p", REALTIME)
    held.hold("p", REALTIME)
    held.hold("p", CALL)
    assert held.held("p")
    assert held.held("p", CALL)
    assert not held.held("q")
    assert not held.release("p", REALTIME)
    assert not held.release("p", CALL)
    assert not held.held("p", CALL)
    assert held.held("p", REALTIME)
    assert held.release("p", REALTIME)
    assert not held.held("p")
    assert not held.held("p", REALTIME)


async def test_set_online_false_waits_for_the_last_connection(
    client: httpx.AsyncClient, state: AppState
) -> None:
    key = await make_team_key(state, "acme")
    response = await client.post("/rooms", data={"id": "r", "user[name]": "A"}, headers=key.auth)
    access_key = response.json()["access_key"]
    async with state.db.uow() as uow:
        _, participant = await live.access(uow.session, access_key)
        await live.set_online(uow, participant, True)
        participant_id, meeting_id = participant.id, participant.meeting_id

    async def offline() -> bool:
        async with state.db.uow() as uow:
            found = await live.participant_by_id(uow.session, participant_id)
            assert found is not None
            await live.set_online(uow, found, False)
            return not found.online

    presence.hold(participant_id, REALTIME)
    presence.hold(participant_id, CALL)
    assert not await offline()  # the socket and the call hold her
    assert not presence.release(participant_id, CALL)
    assert not await offline()  # the socket still does
    assert presence.release(participant_id, REALTIME)
    assert await offline()
    async with state.db.uow() as uow:
        (stay,) = await repository.attendances(uow.session, [meeting_id])
        assert stay.left_at is not None
