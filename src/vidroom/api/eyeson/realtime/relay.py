"""Event messages that participants and observers receive alike."""

from __future__ import annotations

from typing import Any

from vidroom.api.eyeson.broadcasts import running
from vidroom.db.uow import Database
from vidroom.events import catalogue as ev
from vidroom.kit.clock import iso_z
from vidroom.meetings.models import Meeting
from vidroom.meetings.options import merged


def message_sent(event: ev.MessageSent) -> dict[str, Any]:
    """``chat`` / ``custom`` (spec §5.5, §5.6)."""
    return {
        "type": event.kind,
        "content": event.content,
        "cid": event.client_id,
        "user_id": event.user_id,
        "created_at": iso_z(event.at),
    }


def options_update(stored: dict[str, Any] | None, event: ev.OptionsChanged) -> dict[str, Any]:
    """The full options (spec §2.2): the meeting's, as the event changed them."""
    return {"type": "options_update", "options": merged({**(stored or {}), **event.options})}


async def broadcasts_update(db: Database, meeting_id: str) -> list[dict[str, Any]]:
    """``broadcasts_update`` with the meeting's running broadcasts (none: an empty list)."""
    async with db.reader() as uow:
        meeting = await uow.session.get(Meeting, meeting_id)
        if meeting is None:
            return []
        return [{"type": "broadcasts_update", "broadcasts": await running(uow.session, meeting)}]
