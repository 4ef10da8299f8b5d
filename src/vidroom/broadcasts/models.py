"""A meeting's live broadcasts to an RTMP(S) ingest. The stream key is never stored: the row
keeps the URL redacted (:mod:`vidroom.kit.stream_url`); the key lives only in the media
worker's target."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from vidroom.db.base import Base, UTCDateTime
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id

# a running broadcast is "starting" (connecting), "live" or "reconnecting"; an ended one is
# "ended" (stopped, the meeting ended, the room emptied) or "failed" (gave up, media lost)
RUNNING_STATES = ("starting", "live", "reconnecting")
ENDED_STATES = ("ended", "failed")


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (
        # one broadcast at a time per meeting (the spec allows one RTMP destination)
        Index(
            "uq_broadcasts_running_meeting",
            "meeting_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    platform: Mapped[str] = mapped_column(String(32), default="generic")
    player_url: Mapped[str] = mapped_column(String(2000), default="")
    # rtmp(s)://host:port/app/*** : never the stream key
    stream_redacted: Mapped[str] = mapped_column(String(2100))
    state: Mapped[str] = mapped_column(String(16), default="starting")
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
