"""Units of work: read-only ones refuse to write; SQLite writers take turns through the gate."""

from __future__ import annotations

import asyncio

import pytest

from vidroom import errors
from vidroom.accounts.models import User
from vidroom.db.uow import WriteGate
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


async def test_gate_is_reentrant_for_its_task_and_times_out_for_others() -> None:
    gate = WriteGate(timeout=0.05)
    await gate.acquire()
    await gate.acquire()  # the same task: no deadlock
    gate.release()

    async def other() -> None:
        await gate.acquire()

    with pytest.raises(errors.VidroomError) as caught:
        await asyncio.create_task(other())
    assert caught.value.kind is errors.ErrorKind.unavailable
    gate.release()
    await asyncio.wait_for(asyncio.create_task(other()), 1)
