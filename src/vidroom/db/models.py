"""Imports every table so that ``Base.metadata`` is complete (for Alembic and tests)."""

from vidroom.accounts.models import DeveloperToken, User, WebSession
from vidroom.db.base import Base
from vidroom.meetings.models import Meeting, MeetingAttendance
from vidroom.rooms.models import Room
from vidroom.teams.models import ApiKey, Membership, Team

__all__ = [
    "ApiKey",
    "Base",
    "DeveloperToken",
    "Meeting",
    "MeetingAttendance",
    "Membership",
    "Room",
    "Team",
    "User",
    "WebSession",
]
