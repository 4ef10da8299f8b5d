"""``/metrics`` in Prometheus text format, from the database (and the media server when wired)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.eyeson.conftest import make_team_key
from vidroom.meetings import live
from vidroom.state import AppState


async def scrape(client: httpx.AsyncClient) -> dict[str, float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_meetings_and_participants(client: httpx.AsyncClient, state: AppState) -> None:
    before = await scrape(client)
    assert before["vidroom_meetings"] == 0
    assert before["vidroom_participants"] == 0
    assert "vidroom_media_rooms" not in before  # no media server in this app
    key = await make_team_key(state, "acme")
    first = await client.post("/rooms", data={"id": "a", "user[name]": "A"}, headers=key.auth)
    await client.post("/rooms", data={"id": "a", "user[name]": "B"}, headers=key.auth)
    await client.post("/rooms", data={"id": "b", "user[name]": "C"}, headers=key.auth)
    async with state.db.uow() as uow:
        _, participant = await live.access(uow.session, first.json()["access_key"])
        await live.seen(uow, participant, online=True)
    after = await scrape(client)
    assert after["vidroom_meetings"] == 2
    assert after["vidroom_participants"] == 3
    assert after["vidroom_participants_online"] == 1
    await client.delete(f"/rooms/{first.json()['access_key']}")
    ended = await scrape(client)
    assert ended["vidroom_meetings"] == 1
    assert ended["vidroom_participants"] == 1
    assert ended["vidroom_participants_online"] == 0
