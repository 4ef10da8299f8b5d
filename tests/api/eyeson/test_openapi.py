"""Every meeting-API route is documented in OpenAPI (served at /docs)."""

from __future__ import annotations

import httpx

ROUTES = {
    ("post", "/rooms"),
    ("get", "/rooms"),
    ("get", "/rooms/{access_key}"),
    ("delete", "/rooms/{key}"),
    ("get", "/rooms/{room_id}/users"),
    ("get", "/rooms/{access_key}/users/{user_id}"),
    ("delete", "/rooms/{access_key}/users/{user_id}"),
    ("post", "/guests/{guest_token}"),
    ("post", "/rooms/{access_key}/lock"),
    ("post", "/rooms/{access_key}/messages"),
    ("get", "/rooms/{access_key}/files"),
    ("post", "/rooms/{access_key}/files"),
    ("get", "/rooms/{access_key}/files/{file_id}"),
    ("put", "/rooms/{access_key}/files/{file_id}"),
    ("delete", "/rooms/{access_key}/files/{file_id}"),
    ("get", "/rooms/{access_key}/files/{file_id}/download"),
    ("post", "/webhooks"),
    ("get", "/webhooks"),
    ("delete", "/webhooks/{webhook_id}"),
    ("post", "/rooms/{access_key}/broadcasts"),
    ("put", "/rooms/{access_key}/broadcasts"),
    ("put", "/rooms/{access_key}/broadcasts/{platform}"),
    ("delete", "/rooms/{access_key}/broadcasts"),
    ("delete", "/rooms/{access_key}/broadcasts/{platform}"),
    ("post", "/rooms/{access_key}/recording"),
    ("put", "/rooms/{access_key}/recording"),
    ("delete", "/rooms/{access_key}/recording"),
    ("get", "/recordings/{recording_id}"),
    ("delete", "/recordings/{recording_id}"),
    ("get", "/rooms/{room_id}/recordings"),
    ("post", "/rooms/{access_key}/snapshot"),
    ("get", "/rooms/{access_key}/snapshots/{snapshot_id}"),
    ("get", "/snapshots/{snapshot_id}"),
    ("delete", "/snapshots/{snapshot_id}"),
    ("get", "/rooms/{room_id}/snapshots"),
    ("get", "/downloads/{kind}/{item_id}"),
}


async def test_meeting_api_routes_are_documented(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    documented = {
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "delete"}
    }
    assert documented >= ROUTES, ROUTES - documented
    for method, path in ROUTES:
        operation = schema["paths"][path][method]
        assert operation.get("summary"), (method, path)
        assert "meeting API" in operation.get("tags", []), (method, path)
