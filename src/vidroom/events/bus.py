"""The event bus: after a commit, events go to whoever listens to the meeting's topic.

``MemoryBus`` serves one process. A Redis bus can implement the same protocol for several nodes.
Each subscriber has a bounded queue: a slow or dead consumer loses events (logged), it never
blocks the publisher.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from typing import Protocol

from vidroom.events.catalogue import Event

log = logging.getLogger(__name__)

DEFAULT_QUEUE = 256


class Subscription:
    def __init__(self, bus: MemoryBus, topic: str, maxsize: int) -> None:
        self._bus = bus
        self.topic = topic
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "dropped %s for a slow subscriber of %s (%d dropped)",
                event.type,
                self.topic,
                self.dropped,
            )

    async def get(self) -> Event:
        return await self.queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)


class EventBus(Protocol):
    async def publish(self, topic: str, event: Event) -> None: ...

    def subscribe(self, topic: str, maxsize: int = DEFAULT_QUEUE) -> Subscription: ...


class MemoryBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    async def publish(self, topic: str, event: Event) -> None:
        for subscription in list(self._subscribers.get(topic, ())):
            subscription.offer(event)

    def subscribe(self, topic: str, maxsize: int = DEFAULT_QUEUE) -> Subscription:
        subscription = Subscription(self, topic, maxsize)
        self._subscribers[topic].add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))


def meeting_topic(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"


def team_topic(team_id: str) -> str:
    return f"team:{team_id}"
