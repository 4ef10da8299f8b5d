"""Meeting lifecycle: start, ready, presence, the grace period, concurrent starts, history."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from tests.api.eyeson.conftest import TeamKey, make_team_key
from vidroom.events.bus import meeting_topic
from vidroom.events.catalogue import Event
from vidroom.kit.clock import utc_now
from vidroom.meetings import live
from vidroom.meetings import service as history
from vidroom.meetings.models import Meeting, Participant
from vidroom.meetings.supervisor import MeetingSupervisor
from vidroom.state import AppState


async def start(client: httpx.AsyncClient, key: TeamKey, room: str, name: str) -> dict[str, str]:
    response = await client.post("/rooms", data={"id": room, "user[name]": name}, headers=key.auth)
    assert response.status_code == 201, response.text
    body = response.json()
    return {"ak": body["access_key"], "meeting_id": body["signaling"]["options"]["conf_id"]}


async def backdate(state: AppState, meeting_id: str, seconds: float) -> None:
    async with state.db.uow() as uow:
        meeting = await uow.session.get(Meeting, meeting_id)
        assert meeting is not None
        meeting.started_at -= timedelta(seconds=seconds)
        for p in await live.participants(uow.session, meeting):
            p.last_seen_at -= timedelta(seconds=seconds)


async def test_empty_meeting_ends_after_the_grace_period(
    client: httpx.AsyncClient, state: AppState
) -> None:
    key = await make_team_key(state, "acme")
    joined = await start(client, key, "r", "Alice")
    supervisor = MeetingSupervisor(state.db, grace_seconds=60, presence_seconds=45)
    assert await supervisor.sweep() == []
    await backdate(state, joined["meeting_id"], 100)  # absent 100 s < 45 + 60
    assert await supervisor.sweep() == []
    await backdate(state, joined["meeting_id"], 10)  # absent 110 s > 105
    assert await supervisor.sweep() == [joined["meeting_id"]]
    assert (await client.get(f"/rooms/{joined['ak']}")).status_code == 410
    assert (await client.get("/rooms", headers=key.auth)).json() == []


async def test_presence_keeps_a_meeting_alive(client: httpx.AsyncClient, state: AppState) -> None:
    key = await make_team_key(state, "acme")
    joined = await start(client, key, "r", "Alice")
    await backdate(state, joined["meeting_id"], 1000)
    async with state.db.uow() as uow:
        _, participant = await live.access(uow.session, joined["ak"])
        await live.seen(uow, participant)  # e.g. the websocket's user_joins keep-alive
    supervisor = MeetingSupervisor(state.db, grace_seconds=60, presence_seconds=45)
    assert await supervisor.sweep() == []


async def test_stale_online_participants_go_offline_and_history_records_them(
    client: httpx.AsyncClient, state: AppState
) -> None:
    key = await make_team_key(state, "acme")
    a = await start(client, key, "r", "Alice")
    b = await start(client, key, "r", "Bob")
    events: list[Event] = []
    subscription = state.bus.subscribe(meeting_topic(a["meeting_id"]))
    for ak in (a["ak"], b["ak"]):
        async with state.db.uow() as uow:
            _, participant = await live.access(uow.session, ak)
            await live.seen(uow, participant, online=True)
    online = await client.get("/rooms/r/users?online=true", headers=key.auth)
    assert [u["name"] for u in online.json()] == ["Alice", "Bob"]
    # Bob's presence lapses (say his server process died)
    async with state.db.uow() as uow:
        _, bob = await live.access(uow.session, b["ak"])
        bob.last_seen_at = utc_now() - timedelta(seconds=50)
    supervisor = MeetingSupervisor(state.db, grace_seconds=60, presence_seconds=45)
    assert await supervisor.sweep() == []
    online = await client.get("/rooms/r/users?online=true", headers=key.auth)
    assert [u["name"] for u in online.json()] == ["Alice"]
    while not subscription.queue.empty():
        events.append(subscription.queue.get_nowait())
    subscription.close()
    changes = [(e.type, getattr(e, "online", None)) for e in events]
    assert changes == [
        ("participant.changed", True),
        ("participant.changed", True),
        ("participant.changed", False),
    ]
    async with state.db.uow() as uow:
        found, _ = await history.history(
            uow.session,
            team_id=(await uow.session.get(Meeting, a["meeting_id"])).team_id,  # type: ignore[union-attr]
            start=utc_now() - timedelta(hours=1),
            end=utc_now() + timedelta(hours=1),
        )
    assert len(found) == 1
    assert found[0].end is not None  # Bob left: two became one
    assert [s.left is None for s in found[0].stays] == [True, False]


async def test_concurrent_starts_make_one_meeting(
    client: httpx.AsyncClient, state: AppState
) -> None:
    key = await make_team_key(state, "acme")
    results = await asyncio.gather(*(start(client, key, "busy", f"user-{i}") for i in range(8)))
    assert len({r["meeting_id"] for r in results}) == 1
    users = await client.get("/rooms/busy/users", headers=key.auth)
    assert len(users.json()) == 8


async def test_events_are_written_to_the_outbox(client: httpx.AsyncClient, state: AppState) -> None:
    from sqlalchemy import select

    from vidroom.events.models import OutboxEvent

    key = await make_team_key(state, "acme")
    joined = await start(client, key, "r", "Alice")
    await client.post(f"/rooms/{joined['ak']}/messages", data={"type": "chat", "content": "hi"})
    await client.delete(f"/rooms/{joined['ak']}")
    async with state.db.uow() as uow:
        rows = (
            (
                await uow.session.execute(
                    select(OutboxEvent.type).where(OutboxEvent.meeting_id == joined["meeting_id"])
                )
            )
            .scalars()
            .all()
        )
    # chat is ephemeral: delivered live, never stored
    assert sorted(rows) == ["meeting.ended", "meeting.ready", "meeting.started"]


async def test_participant_rows_are_unique_per_meeting(
    client: httpx.AsyncClient, state: AppState
) -> None:
    key = await make_team_key(state, "acme")
    joined = await start(client, key, "r", "Alice")
    async with state.db.uow() as uow:
        _, participant = await live.access(uow.session, joined["ak"])
        assert isinstance(participant, Participant)
        assert participant.client_id == participant.user_id
