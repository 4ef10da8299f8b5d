"""Meetings (a running instance of a room), their participants, and attendance history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from vidroom.db.base import Base, UTCDateTime
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id


class Meeting(Base):
    """One running (or ended) instance of a room. A room key holds at most one running meeting
    per team; when it ends, the same key later starts a new meeting."""

    __tablename__ = "meetings"
    __table_args__ = (
        Index(
            "uq_meetings_running_room",
            "team_id",
            "room_key",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str | None] = mapped_column(
        ForeignKey("rooms.id", ondelete="SET NULL"), index=True
    )
    # the meeting API's room id (the `id` parameter); a team API room's name
    room_key: Mapped[str] = mapped_column(String(200), default="")
    # kept as it was when the meeting ran, so history outlives a deleted room
    room_name: Mapped[str] = mapped_column(String(200))
    api_key_id: Mapped[str | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    # a join capability shown to every participant (links.guest_join), so kept readable
    guest_token: Mapped[str | None] = mapped_column(String(24), unique=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ready: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Participant(Base):
    """A user of one meeting: a host from ``POST /rooms`` or a guest."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        UniqueConstraint("meeting_id", "client_id"),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    # the public user id: the caller's `user[id]`, else generated
    user_id: Mapped[str] = mapped_column(String(128))
    # the signalling client id: the user id, unless the caller chose the user id
    client_id: Mapped[str] = mapped_column(String(128))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(200))
    avatar: Mapped[str | None] = mapped_column(String(2000))
    guest: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    custom_fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class AccessKey(Base):
    """A participant's credential for the meeting API (stored as a hash). A participant who
    joins again gets another key; every key of theirs stays valid while the meeting runs."""

    __tablename__ = "access_keys"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[str] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


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
