"""Files shared in a meeting (``/rooms/<access_key>/files``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from vidroom.db.base import Base, UTCDateTime
from vidroom.kit.clock import utc_now
from vidroom.kit.secrets import new_id


class MeetingFile(Base):
    __tablename__ = "meeting_files"

    id: Mapped[str] = mapped_column(String(24), primary_key=True, default=new_id)
    meeting_id: Mapped[str] = mapped_column(
        ForeignKey("meetings.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[str | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    # where the bytes are, relative to the data directory's files folder
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # slides (files/conversion.py): "none" (not a presentation), "image" (itself one slide),
    # "converting" / "converted" / "failed" (a PDF)
    conversion: Mapped[str] = mapped_column(String(16), default="none")
    conversion_progress: Mapped[float] = mapped_column(Float, default=1.0)
    conversion_error: Mapped[str | None] = mapped_column(String(200))
    # [[slide key, thumbnail key], ...] in page order, in the files storage
    slide_keys: Mapped[list[Any]] = mapped_column(JSON, default=list)
