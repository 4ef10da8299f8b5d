"""Units of work: read-only ones see committed rows and refuse to write."""

from __future__ import annotations

import pytest

from vidroom.accounts.models import User
from vidroom.state import AppState


async def test_reader_sees_committed_rows_and_refuses_to_write(state: AppState) -> None:
    async with state.db.uow() as uow:
        uow.session.add(User(email="reader@example.com"))
    async with state.db.reader() as uow:
        users = await uow.session.execute(User.__table__.select())
        assert [row.email for row in users] == ["reader@example.com"]

    async def write_in_reader() -> None:
        async with state.db.reader() as uow:
            uow.session.add(User(email="writer@example.com"))
            await uow.session.flush()

    with pytest.raises(RuntimeError, match="read-only"):
        await write_in_reader()
    async with state.db.reader() as uow:
        count = len((await uow.session.execute(User.__table__.select())).all())
    assert count == 1
