"""Emitting events: outbox row and transactional handlers (e.g. webhook deliveries) inside the
caller's transaction; publication on the bus after the commit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from vidroom.events.bus import EventBus, meeting_topic, team_topic
from vidroom.events.catalogue import EPHEMERAL_TYPES, Event
from vidroom.events.models import OutboxEvent

TransactionalHandler = Callable[[AsyncSession, OutboxEvent, Event], Awaitable[None]]


class EventHub:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._handlers: list[TransactionalHandler] = []

    def on_commit_bound(self, handler: TransactionalHandler) -> None:
        """Run ``handler`` inside the emitting transaction for each durable event."""
        self._handlers.append(handler)

    async def record(self, session: AsyncSession, event: Event) -> OutboxEvent | None:
        if event.type in EPHEMERAL_TYPES:
            return None
        row = OutboxEvent(
            type=event.type,
            team_id=event.team_id,
            meeting_id=event.meeting_id,
            payload=event.model_dump(mode="json"),
            created_at=event.at,
        )
        session.add(row)
        await session.flush()
        for handler in self._handlers:
            await handler(session, row, event)
        return row

    async def publish(self, event: Event) -> None:
        await self.bus.publish(meeting_topic(event.meeting_id), event)
        await self.bus.publish(team_topic(event.team_id), event)
