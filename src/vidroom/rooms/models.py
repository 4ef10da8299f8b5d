"""Named rooms of a team, each with an installation-wide unique dial-in PIN."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from vidroom.db.base import Base, UTCDateTime
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id


class Privacy(StrEnum):
    public = "public"  # anyone with the link
    org = "org"  # team members only
    private = "private"  # owners only (and people they let in)


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("team_id", "name_key"),)

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    privacy: Mapped[str] = mapped_column(String(16), default=Privacy.org.value)
    dial_in_pin: Mapped[str] = mapped_column(String(6), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
