"""Meeting history: from the second join to the next-to-last leave, through the team API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import bearer, new_token
from vidroom.accounts import service as accounts
from vidroom.meetings import service as meetings
from vidroom.rooms import service as rooms
from vidroom.state import AppState
from vidroom.teams import service as teams

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
async def token(state: AppState) -> str:
    token = await new_token(state, "owner@example.com")
    async with state.db.uow() as uow:
        owner = await accounts.get_or_create_user(uow.session, "owner@example.com")
        team = await teams.claim(uow.session, owner, "acme")
        await rooms.create(uow.session, team, owner, name="standup")
        await rooms.create(uow.session, team, owner, name="retro")
    return token


async def record(
    state: AppState, room_name: str, stays: list[tuple[str, str | None, float, float | None]]
) -> None:
    """A meeting in ``room_name`` with (key, email, join minute, leave minute) stays."""
    async with state.db.uow() as uow:
        team = await teams.get(uow.session, "acme")
        room = await rooms.get(uow.session, team, room_name)
        meeting = await meetings.start(
            uow.session, team_id=team.id, room_id=room.id, room_name=room.name
        )
        meeting.started_at = at(min(s[2] for s in stays))
        for key, email, joined, _ in stays:
            await meetings.joined(
                uow.session, meeting, participant_key=key, email=email, at=at(joined)
            )
        for key, _, _, left in sorted(stays, key=lambda s: s[3] or 0):
            if left is not None:
                await meetings.left(uow.session, meeting, participant_key=key, at=at(left))


async def history(client: httpx.AsyncClient, token: str, **body: object) -> dict[str, object]:
    response = await client.post("/domains/by-name/acme/meetings", json=body, headers=bearer(token))
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


async def test_empty_until_meetings_exist(client: httpx.AsyncClient, token: str) -> None:
    assert await history(client, token) == {"meetings": [], "moreResults": False}


async def test_session_runs_from_second_join_to_next_to_last_leave(
    client: httpx.AsyncClient, state: AppState, token: str
) -> None:
    await record(
        state,
        "standup",
        [("a", "a@example.com", 0, 30), ("b", None, 5, 20), ("c", "c@example.com", 10, 25)],
    )
    body = await history(client, token, start="2026-03-02T00:00:00Z", end=int(at(60).timestamp()))
    assert body["moreResults"] is False
    assert body["meetings"] == [
        {
            "domain": "acme",
            "room": "standup",
            "mtgStart": "2026-03-02T10:05:00.000Z",
            "mtgEnd": "2026-03-02T10:25:00.000Z",
            "participants": [
                {"email": "a@example.com", "mtgJoin": "2026-03-02T10:00:00.000Z",
                 "mtgLeave": "2026-03-02T10:30:00.000Z"},
                {"email": "guest", "mtgJoin": "2026-03-02T10:05:00.000Z",
                 "mtgLeave": "2026-03-02T10:20:00.000Z"},
                {"email": "c@example.com", "mtgJoin": "2026-03-02T10:10:00.000Z",
                 "mtgLeave": "2026-03-02T10:25:00.000Z"},
            ],
        }
    ]  # fmt: skip


async def test_alone_is_not_a_meeting_and_open_meetings_have_no_end(
    client: httpx.AsyncClient, state: AppState, token: str
) -> None:
    await record(state, "standup", [("a", "a@example.com", 0, 10)])
    await record(state, "retro", [("a", "a@example.com", 20, None), ("b", None, 21, None)])
    body = await history(client, token, start=0)
    meetings_found = body["meetings"]
    assert isinstance(meetings_found, list)
    assert [(m["room"], m["mtgStart"], m["mtgEnd"]) for m in meetings_found] == [
        ("retro", "2026-03-02T10:21:00.000Z", None)
    ]
    assert meetings_found[0]["participants"][1]["mtgLeave"] is None


async def test_filters_by_room_and_range(
    client: httpx.AsyncClient, state: AppState, token: str
) -> None:
    await record(state, "standup", [("a", None, 0, 10), ("b", None, 1, 10)])
    await record(state, "retro", [("a", None, 100, 110), ("b", None, 101, 110)])
    rooms_of = lambda body: [m["room"] for m in body["meetings"]]  # noqa: E731
    assert rooms_of(await history(client, token, room="retro")) == ["retro"]
    assert rooms_of(await history(client, token, start=str(at(50).timestamp()))) == ["retro"]
    assert rooms_of(await history(client, token, end=at(50).isoformat())) == ["standup"]
    assert rooms_of(await history(client, token, room="nope")) == []


async def test_at_most_100_per_call(client: httpx.AsyncClient, state: AppState, token: str) -> None:
    for i in range(101):
        await record(
            state, "standup", [("a", None, i * 10, i * 10 + 5), ("b", None, i * 10, i * 10 + 5)]
        )
    body = await history(client, token)
    assert len(body["meetings"]) == 100  # type: ignore[arg-type]
    assert body["moreResults"] is True
    last = body["meetings"][-1]["mtgStart"]  # type: ignore[index]
    rest = await history(client, token, start=datetime.fromisoformat(last).timestamp() + 1)
    assert len(rest["meetings"]) == 1  # type: ignore[arg-type]
    assert rest["moreResults"] is False


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"start": "yesterday"}, "start_invalid"),
        ({"end": "2026-13-45"}, "end_invalid"),
        ({"start": 10**20}, "start_invalid"),
        ({"start": True}, "invalid"),
        ({"start": [1]}, "invalid"),
        ({"room": 5}, "invalid"),
        ({"start": 100, "end": 50}, "range_invalid"),
    ],
)
async def test_bad_ranges(
    client: httpx.AsyncClient, token: str, body: dict[str, object], code: str
) -> None:
    response = await client.post("/domains/by-name/acme/meetings", json=body, headers=bearer(token))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


async def test_history_survives_room_deletion_and_needs_membership(
    client: httpx.AsyncClient, state: AppState, token: str
) -> None:
    await record(state, "retro", [("a", None, 0, 10), ("b", None, 1, 10)])
    response = await client.delete("/domains/by-name/acme/room/retro", headers=bearer(token))
    assert response.status_code == 200
    assert [m["room"] for m in (await history(client, token))["meetings"]] == ["retro"]  # type: ignore[attr-defined]
    stranger = await new_token(state, "x@example.com")
    response = await client.post(
        "/domains/by-name/acme/meetings", json={}, headers=bearer(stranger)
    )
    assert response.status_code == 403


async def test_rejoin_is_a_new_stay_and_double_join_is_one(state: AppState, token: str) -> None:
    async with state.db.uow() as uow:
        team = await teams.get(uow.session, "acme")
        meeting = await meetings.start(uow.session, team_id=team.id, room_id=None, room_name="x")
        meeting.started_at = at(0)
        first = await meetings.joined(uow.session, meeting, participant_key="a", at=at(0))
        again = await meetings.joined(uow.session, meeting, participant_key="a", at=at(1))
        assert again.id == first.id
        await meetings.left(uow.session, meeting, participant_key="a", at=at(2))
        second = await meetings.joined(uow.session, meeting, participant_key="a", at=at(3))
        assert second.id != first.id
        await meetings.joined(uow.session, meeting, participant_key="b", at=at(4))
        await meetings.end(uow.session, meeting, at=at(9))
        assert meeting.ended_at == at(9)
    found, more = await _history(state, team.id)
    assert not more
    assert [(s.start, s.end, len(s.stays)) for s in found] == [(at(4), at(9), 3)]


async def _history(state: AppState, team_id: str) -> tuple[list[meetings.MeetingSession], bool]:
    async with state.db.uow() as uow:
        return await meetings.history(uow.session, team_id=team_id, start=at(-60), end=at(60))
