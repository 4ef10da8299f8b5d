"""A recording of a meeting's composite (a fragmented MP4 in the media store).

States: "starting" (reserved, the media server is asked), "recording" (``paused`` may be set),
"stopped" (the file is closed, its duration known), "ready" (downloadable), "failed" (it could
not be written; what was written is kept and downloadable when it holds media).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from vidroom.db.base import Base, UTCDateTime
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id

RUNNING_STATES = ("starting", "recording")


class Recording(Base):
    __tablename__ = "recordings"
    __table_args__ = (
        # one recording at a time per meeting
        Index(
            "uq_recordings_running_meeting",
            "meeting_id",
            unique=True,
            sqlite_where=text("stopped_at IS NULL"),
            postgresql_where=text("stopped_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    storage_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="starting")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    duration: Mapped[float | None] = mapped_column(Float)
    size: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
