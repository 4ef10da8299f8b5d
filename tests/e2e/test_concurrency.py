"""Concurrent requests against a real server: no 500s, one participant per user id."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import LiveServer


async def test_concurrent_joins_of_one_user_and_many_users(live_server: LiveServer) -> None:
    live_server.cli("teams", "create", "acme", "--owner", "owner@example.com")
    key = live_server.cli("apikeys", "create", "--team", "acme").splitlines()[-1]
    auth = {"Authorization": key}
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:

        async def join(user_id: str) -> httpx.Response:
            data = {"id": "busy", "user[name]": user_id, "user[id]": user_id}
            return await http.post("/rooms", data=data, headers=auth)

        same = await asyncio.gather(*(join("same") for _ in range(20)))
        many = await asyncio.gather(*(join(f"user-{i}") for i in range(20)))
        statuses = [r.status_code for r in [*same, *many]]
        assert statuses == [201] * 40, [r.text for r in [*same, *many] if r.status_code != 201]
        assert len({r.json()["room"]["guest_token"] for r in [*same, *many]}) == 1
        assert {r.json()["user"]["id"] for r in same} == {"same"}
        users = (await http.get("/rooms/busy/users", headers=auth)).json()
        assert sorted(u["id"] for u in users) == sorted(["same", *(f"user-{i}" for i in range(20))])
