"""Migration 0007 (file slides) on SQLite and PostgreSQL: down and up again; files stored
before it read as converted, without slides."""

from __future__ import annotations

import httpx
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from tests.files.test_upload import upload
from vidroom.db.migrate import alembic_config
from vidroom.state import AppState

NEW_COLUMNS = {"conversion", "conversion_progress", "conversion_error", "slide_keys"}


def _migrate(connection: Connection, revision: str) -> set[str]:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    if revision == "head":
        command.upgrade(cfg, revision)
    else:
        command.downgrade(cfg, revision)
    return {c["name"] for c in inspect(connection).get_columns("meeting_files")}


async def test_down_and_up_keeps_files(
    client: httpx.AsyncClient, room: str, state: AppState
) -> None:
    response = await upload(client, room, "notes.txt", b"hello", "text/plain")
    assert response.status_code == 201, response.text
    file_id = response.json()["id"]
    async with state.engine.begin() as connection:
        assert not NEW_COLUMNS & await connection.run_sync(_migrate, "0006")
    async with state.engine.begin() as connection:
        assert await connection.run_sync(_migrate, "head") >= NEW_COLUMNS
    body = (await client.get(f"/rooms/{room}/files/{file_id}")).json()
    assert (body["converted"], body["conversion_progress"], body["failed"]) == (True, 1.0, False)
    assert body["links"]["slides"] == []
