"""Meeting sessions and who was in them: the source of the team API's meeting history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from vidroom.db.base import Base, UTCDateTime
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id


class Meeting(Base):
    __tablename__ = "meetings"

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), index=True
    )
    # kept as it was when the meeting ran, so history outlives a deleted room
    room_name: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MeetingAttendance(Base):
    """One stay of one participant in a meeting (a rejoin is a new row)."""

    __tablename__ = "meeting_attendances"

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    participant_key: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str | None] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
