"""Imports every table so that ``Base.metadata`` is complete (for Alembic and tests)."""

from vidroom.accounts.models import DeveloperToken, User, WebSession
from vidroom.broadcasts.models import Broadcast
from vidroom.db.base import Base
from vidroom.events.models import OutboxEvent
from vidroom.files.models import MeetingFile
from vidroom.meetings.models import AccessKey, Meeting, MeetingAttendance, Participant
from vidroom.recordings.models import Recording
from vidroom.rooms.models import Room
from vidroom.snapshots.models import Snapshot
from vidroom.teams.models import ApiKey, Membership, Team
from vidroom.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "AccessKey",
    "ApiKey",
    "Base",
    "Broadcast",
    "DeveloperToken",
    "Meeting",
    "MeetingAttendance",
    "MeetingFile",
    "Membership",
    "OutboxEvent",
    "Participant",
    "Recording",
    "Room",
    "Snapshot",
    "Team",
    "User",
    "WebSession",
    "Webhook",
    "WebhookDelivery",
]
