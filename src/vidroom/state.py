"""What the running application holds: built once at start, passed to every edge."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from vidroom.db.uow import Database
from vidroom.events.bus import MemoryBus
from vidroom.events.hub import EventHub
from vidroom.media.contract import MediaControl
from vidroom.meetings.playbacks import Playbacks
from vidroom.meetings.supervisor import MeetingSupervisor
from vidroom.settings import Settings
from vidroom.webhooks.delivery import DeliveryWorker


@dataclass
class AppState:
    settings: Settings
    engine: AsyncEngine
    db: Database
    bus: MemoryBus
    events: EventHub
    supervisor: MeetingSupervisor
    webhooks: DeliveryWorker
    media: MediaControl | None = None
    playbacks: Playbacks | None = None  # with the media server (the SEPP hub's)
