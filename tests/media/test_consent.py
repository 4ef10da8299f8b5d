"""The aioice consent guard: a connection closed while connect() finishes keeps no task."""

from __future__ import annotations

import asyncio
from typing import Any

import aioice

from vidroom.media.consent import guard_consent
from vidroom.media.testing import loopback_ice


class GatedQueue(asyncio.Queue[Any]):
    """The check list's state queue, holding connect() after the result arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def get(self) -> Any:
        item = await super().get()
        self.reached.set()
        await self.release.wait()
        return item


def consent_tasks() -> list[asyncio.Task[Any]]:
    return [
        t for t in asyncio.all_tasks() if not t.done() and "query_consent" in repr(t.get_coro())
    ]


async def test_close_while_connect_completes_leaves_no_consent_task() -> None:
    guard_consent()
    guard_consent()  # idempotent
    with loopback_ice():
        a = aioice.Connection(ice_controlling=True)
        b = aioice.Connection(ice_controlling=False)
        await asyncio.gather(a.gather_candidates(), b.gather_candidates())
        for here, there in ((a, b), (b, a)):
            for candidate in there.local_candidates:
                await here.add_remote_candidate(candidate)
            await here.add_remote_candidate(None)
            here.remote_username = there.local_username
            here.remote_password = there.local_password
        gate = GatedQueue()
        a._check_list_state = gate  # type: ignore[attr-defined]
        connecting = asyncio.create_task(a.connect())
        other = asyncio.create_task(b.connect())
        await asyncio.wait_for(gate.reached.wait(), 10)
        await a.close()  # the check list completed; connect() has not resumed yet
        gate.release.set()
        await asyncio.wait_for(connecting, 10)
        await asyncio.wait_for(other, 10)
        await b.close()
        await asyncio.sleep(0)
        assert consent_tasks() == []
