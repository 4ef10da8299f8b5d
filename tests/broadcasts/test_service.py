"""The broadcasts service on the real databases: one running broadcast per meeting (also when
two starts race), input checks, reports applied once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from vidroom import errors
from vidroom.accounts import service as accounts
from vidroom.broadcasts import service
from vidroom.broadcasts.models import Broadcast
from vidroom.kit.stream_url import parse
from vidroom.meetings import live
from vidroom.meetings.models import Meeting, Participant
from vidroom.state import AppState
from vidroom.teams import service as teams

STREAM = parse("rtmp://ingest.example.com/live/the-key")


async def _meeting(state: AppState) -> tuple[str, str]:
    async with state.db.uow() as uow:
        owner = await accounts.get_or_create_user(uow.session, "o@acme.example.com")
        team = await teams.claim(uow.session, owner, "acme")
        joined = await live.start_or_join(
            uow, team, room_key="r", name=None, user=live.UserSpec(name="host"), options={}
        )
        return joined.meeting.id, joined.participant.id


async def _begin(state: AppState, meeting_id: str, participant_id: str) -> str:
    async with state.db.uow() as uow:
        meeting = await uow.session.get(Meeting, meeting_id)
        participant = await uow.session.get(Participant, participant_id)
        assert meeting is not None
        assert participant is not None
        row = await service.begin(
            uow, meeting, participant, stream=STREAM, player_url="", platform="generic"
        )
        return row.id


async def test_two_racing_starts_make_one_broadcast(state: AppState) -> None:
    meeting_id, participant_id = await _meeting(state)
    results = await asyncio.gather(
        *(_begin(state, meeting_id, participant_id) for _ in range(4)), return_exceptions=True
    )
    started = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if isinstance(r, errors.VidroomError)]
    assert len(started) == 1, results
    assert len(refused) == 3, results
    assert {e.kind for e in refused} == {errors.ErrorKind.not_acceptable}
    async with state.db.uow() as uow:
        rows = (await uow.session.execute(select(Broadcast))).scalars().all()
    assert [(r.id, r.stream_redacted) for r in rows] == [
        (started[0], "rtmp://ingest.example.com:1935/live/***")
    ]


async def test_reports_apply_once_and_never_revive_an_ended_broadcast(state: AppState) -> None:
    meeting_id, participant_id = await _meeting(state)
    broadcast_id = await _begin(state, meeting_id, participant_id)
    async with state.db.uow() as uow:
        assert await service.on_state(uow, meeting_id, broadcast_id, "bogus", None) is None
        row = await service.on_state(uow, meeting_id, broadcast_id, "ended", "empty")
        assert row is not None
        assert (row.state, row.reason) == ("ended", "empty")
    async with state.db.uow() as uow:
        assert await service.on_state(uow, meeting_id, broadcast_id, "live", None) is None
        assert await service.on_state(uow, meeting_id, "nope", "live", None) is None
    # the meeting may broadcast again
    await _begin(state, meeting_id, participant_id)


@pytest.mark.parametrize(
    "value", ["ftp://x", "javascript:alert(1)", "https://", "https://a b", "x" * 2001]
)
def test_player_urls_are_http_urls(value: str) -> None:
    with pytest.raises(errors.VidroomError):
        service.check_player_url(value)


def test_player_url_and_platform_defaults() -> None:
    assert service.check_player_url(None) == ""
    assert service.check_player_url("https://watch.example/x?y=1") == "https://watch.example/x?y=1"
    assert service.check_platform(None) == "generic"
    assert service.check_platform("Facebook") == "facebook"
    for bad in ("a/b", "x" * 33, "é"):
        with pytest.raises(errors.VidroomError):
            service.check_platform(bad)
