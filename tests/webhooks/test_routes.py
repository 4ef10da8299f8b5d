"""POST/GET/DELETE /webhooks through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.openapi.utils import get_openapi
from sqlalchemy import select

from tests.webhooks.conftest import new_api_key
from vidroom.api.eyeson.webhooks import router as webhooks_router
from vidroom.state import AppState
from vidroom.webhooks import payload, repository
from vidroom.webhooks.models import Webhook

HOOK = "https://8.8.8.8/hook"  # a public IP literal: no DNS needed, never contacted here


def auth(key: str) -> dict[str, str]:
    return {"Authorization": key}


async def current(client: httpx.AsyncClient, key: str) -> object:
    response = await client.get("/webhooks", headers=auth(key))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def test_register_read_replace_delete(client: httpx.AsyncClient, api_key: str) -> None:
    assert await current(client, api_key) is None

    response = await client.post(
        "/webhooks", data={"url": HOOK, "types": "room_update"}, headers=auth(api_key)
    )
    assert response.status_code == 201
    assert response.content == b""
    first = await current(client, api_key)
    assert isinstance(first, dict)
    assert first == {
        "id": first["id"],
        "types": ["room_update"],
        "url": HOOK,
        "last_request_sent_at": None,
        "last_response_code": None,
    }

    response = await client.post(
        "/webhooks",
        data={"url": HOOK + "2", "types": "room_update,participant_update"},
        headers=auth(api_key),
    )
    assert response.status_code == 201
    second = await current(client, api_key)
    assert isinstance(second, dict)
    assert second["id"] != first["id"]
    assert second["url"] == HOOK + "2"
    assert second["types"] == ["room_update", "participant_update"]

    old = await client.delete(f"/webhooks/{first['id']}", headers=auth(api_key))
    assert old.status_code == 404
    gone = await client.delete(f"/webhooks/{second['id']}", headers=auth(api_key))
    assert gone.status_code == 204
    assert gone.content == b""
    assert await current(client, api_key) is None
    again = await client.delete(f"/webhooks/{second['id']}", headers=auth(api_key))
    assert again.status_code == 404
    assert "error" in again.json()


async def _register(
    client: httpx.AsyncClient, key: str, content_type: str | None = None, **kwargs: object
) -> list[str]:
    headers = auth(key) if content_type is None else {**auth(key), "Content-Type": content_type}
    response = await client.post("/webhooks", headers=headers, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    hook = await current(client, key)
    assert isinstance(hook, dict)
    assert hook["url"] == HOOK
    types: list[str] = hook["types"]
    return types


async def test_every_encoding(client: httpx.AsyncClient, api_key: str) -> None:
    both = ["room_update", "participant_update"]
    # PyPI client: params in the query string of an empty POST, types omitted
    assert await _register(client, api_key, params={"url": HOOK}) == list(payload.KNOWN_TYPES)
    assert await _register(client, api_key, data={"url": HOOK, "types": ",".join(both)}) == both
    assert await _register(
        client, api_key, files={"url": (None, HOOK), "types": (None, "participant_update")}
    ) == ["participant_update"]
    assert await _register(client, api_key, json={"url": HOOK, "types": both}) == both
    assert await _register(client, api_key, json={"url": HOOK, "types": " room_update , "}) == [
        "room_update"
    ]
    form = {"url": HOOK, "types[]": both}  # repeated types[] fields
    assert await _register(client, api_key, data=form) == both
    assert await _register(client, api_key, json={"url": HOOK, "types[]": both}) == both
    legacy = ["recording_update", "snapshot_update"]
    assert await _register(client, api_key, json={"url": HOOK, "types": legacy}) == legacy
    # an empty body with a JSON content type (NODE) plus the query string
    assert await _register(
        client,
        api_key,
        params={"url": HOOK, "types": "room_update"},
        content_type="application/json",
    ) == ["room_update"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "url is required"),
        ({"url": ""}, "url is required"),
        ({"url": "ftp://8.8.8.8/x"}, "http"),
        ({"url": "not a url"}, "url"),
        ({"url": "https://" + "a" * 2000 + ".com/"}, "2000"),
        ({"url": "https://exa mple.com/"}, "url"),
        ({"url": {"a": "b"}}, "url"),
        ({"url": HOOK, "types": "room_update,nope"}, "valid types: room_update"),
        ({"url": HOOK, "types": [1]}, "unknown"),
        ({"url": HOOK, "types": {"a": "b"}}, "types"),
        ({"url": "https://8.8.8.8/\u0000"}, "NUL"),
    ],
)
async def test_bad_input_is_400(
    client: httpx.AsyncClient, api_key: str, body: dict[str, object], fragment: str
) -> None:
    response = await client.post("/webhooks", json=body, headers=auth(api_key))
    assert response.status_code == 400, response.text
    assert fragment in response.json()["error"]
    assert await current(client, api_key) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x",
        "http://[::1]/x",
        "http://10.0.0.8/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:8080/x",
        "http://2130706433/",
    ],
)
async def test_private_addresses_refused_without_the_flag(
    client: httpx.AsyncClient,
    state: AppState,
    api_key: str,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(state.settings, "webhooks_allow_private", False)
    response = await client.post("/webhooks", data={"url": url}, headers=auth(api_key))
    assert response.status_code == 400
    assert "refused" in response.json()["error"]
    assert await current(client, api_key) is None
    # with the flag (as the tests' receivers need) the same URL is accepted
    monkeypatch.setattr(state.settings, "webhooks_allow_private", True)
    response = await client.post("/webhooks", data={"url": url}, headers=auth(api_key))
    assert response.status_code == 201


async def test_unresolvable_name_is_accepted(client: httpx.AsyncClient, api_key: str) -> None:
    url = "https://hooks.invalid/x"  # .invalid never resolves (RFC 6761)
    response = await client.post("/webhooks", data={"url": url}, headers=auth(api_key))
    assert response.status_code == 201


@pytest.mark.parametrize("headers", [{}, {"Authorization": "nope"}, {"Authorization": "x" * 500}])
async def test_missing_or_bad_key_is_403(
    client: httpx.AsyncClient, api_key: str, headers: dict[str, str]
) -> None:
    await _register(client, api_key, data={"url": HOOK})
    hook = await current(client, api_key)
    assert isinstance(hook, dict)
    for response in (
        await client.post("/webhooks", data={"url": HOOK}, headers=headers),
        await client.post("/webhooks", data={}, headers=headers),
        await client.get("/webhooks", headers=headers),
        await client.delete(f"/webhooks/{hook['id']}", headers=headers),
    ):
        assert response.status_code == 403
        assert "error" in response.json()
    assert await current(client, api_key) == hook


async def test_other_teams_never_see_or_delete_it(
    client: httpx.AsyncClient, state: AppState, api_key: str
) -> None:
    await _register(client, api_key, data={"url": HOOK})
    hook = await current(client, api_key)
    assert isinstance(hook, dict)
    other = await new_api_key(state, "globex")
    assert await current(client, other) is None
    response = await client.delete(f"/webhooks/{hook['id']}", headers=auth(other))
    assert response.status_code == 404
    assert await current(client, api_key) == hook
    # the other team's own webhook is separate
    await client.post("/webhooks", data={"url": HOOK + "/g"}, headers=auth(other))
    theirs = await current(client, other)
    assert isinstance(theirs, dict)
    assert theirs["id"] != hook["id"]
    assert await current(client, api_key) == hook


async def test_hostile_ids_and_bodies(client: httpx.AsyncClient, api_key: str) -> None:
    for webhook_id in ("x" * 300, "%00", "..%2F..%2Fetc", "' OR 1=1 --"):
        response = await client.delete(f"/webhooks/{webhook_id}", headers=auth(api_key))
        assert response.status_code == 404
    response = await client.post(
        "/webhooks",
        content=b"{not json",
        headers={**auth(api_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    response = await client.post(
        "/webhooks",
        content=json.dumps({"url": HOOK, "pad": "x" * 2_000_000}).encode(),
        headers={**auth(api_key), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    response = await client.post(
        "/webhooks", content=b"<xml/>", headers={**auth(api_key), "Content-Type": "text/xml"}
    )
    assert response.status_code == 415


async def test_signing_key_is_stored_encrypted(
    client: httpx.AsyncClient, state: AppState, api_key: str
) -> None:
    await _register(client, api_key, data={"url": HOOK})
    async with state.db.uow() as uow:
        rows = list(await uow.session.scalars(select(Webhook)))
    assert len(rows) == 1
    assert api_key not in rows[0].signing_key


async def test_last_request_shape(client: httpx.AsyncClient, state: AppState, api_key: str) -> None:
    await _register(client, api_key, data={"url": HOOK})
    hook = await current(client, api_key)
    assert isinstance(hook, dict)
    sent = datetime(2024, 5, 1, 12, 30, 0, 123000, tzinfo=UTC)
    async with state.db.uow() as uow:
        await repository.record_request(uow.session, hook["id"], sent_at=sent, code="200")
    shown = await current(client, api_key)
    assert isinstance(shown, dict)
    assert shown["last_response_code"] == "200"
    assert shown["last_request_sent_at"].endswith("+00:00")
    assert datetime.fromisoformat(shown["last_request_sent_at"]) == sent


def test_documented_in_openapi() -> None:
    spec = get_openapi(title="t", version="1", routes=webhooks_router.routes)
    assert spec["paths"]["/webhooks"]["post"]["summary"]
    assert "X-Eyeson-Signature" in spec["paths"]["/webhooks"]["post"]["description"]
    assert spec["paths"]["/webhooks"]["get"]["summary"]
    assert spec["paths"]["/webhooks/{webhook_id}"]["delete"]["summary"]
