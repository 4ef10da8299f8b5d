"""A guard for a race in aioice 0.13's ``Connection``: consent checks started after close.

``connect()`` starts the consent-freshness task (RFC 7675) once its check list completes. When
``close()`` runs between the check list completing and ``connect()`` resuming, ``close()`` finds
no consent task to cancel, and ``connect()`` then starts one on the closed connection: a task
that sleeps and loops for ever (its nominated pairs are gone), one per such peer, for the life
of the process. The guard stops that task as soon as ``connect()`` returns on a closed
connection. The modules that make peer connections apply it (once) on import.
"""

from __future__ import annotations

import functools
from typing import Any

import aioice.ice

_APPLIED = "_vidroom_consent_guard"


def guard_consent() -> None:
    connection: Any = aioice.ice.Connection
    if getattr(connection, _APPLIED, False):
        return
    original = connection.connect

    @functools.wraps(original)
    async def connect(self: Any) -> None:
        await original(self)
        if getattr(self, "_closing", False):
            task = getattr(self, "_query_consent_task", None)
            if task is not None and not task.done():
                task.cancel()
            self._query_consent_task = None

    connection.connect = connect
    setattr(connection, _APPLIED, True)
