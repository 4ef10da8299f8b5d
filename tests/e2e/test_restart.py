"""Restart safety: data written through a real server survives SIGKILL and restart."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer, bearer


def test_nothing_is_lost_after_sigkill(live_server: LiveServer) -> None:
    token = live_server.cli("tokens", "create", "--email", "owner@example.com").splitlines()[-1]
    with httpx.Client(base_url=live_server.url, headers=bearer(token), timeout=10) as api:
        assert api.post("/domains/claim", json={"domain": "acme"}).status_code == 200
        for i in range(20):
            response = api.post("/domains/by-name/acme/room", json={"name": f"room-{i}"})
            assert response.status_code == 200
        assert api.delete("/domains/by-name/acme/room/room-7").status_code == 200
        before = api.get("/domains/by-name/acme").json()

    live_server.kill()
    live_server.start()

    with httpx.Client(base_url=live_server.url, headers=bearer(token), timeout=10) as api:
        after = api.get("/domains/by-name/acme").json()
    assert after == before
    assert len(after["rooms"]) == 19
    assert "room-7" not in {r["name"] for r in after["rooms"]}
    pins = [r["dialInPIN"] for r in after["rooms"]]
    assert len(set(pins)) == 19
