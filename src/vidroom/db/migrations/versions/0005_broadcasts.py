"""broadcasts

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-07 08:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import vidroom.db.base

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("meeting_id", sa.String(length=24), nullable=False),
        sa.Column("participant_id", sa.String(length=24), nullable=True),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("player_url", sa.String(length=2000), nullable=False),
        sa.Column("stream_redacted", sa.String(length=2100), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reconnects", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", vidroom.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", vidroom.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_broadcasts_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_broadcasts_participant_id_participants"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcasts_meeting_id"), ["meeting_id"], unique=False)
        batch_op.create_index(
            "uq_broadcasts_running_meeting",
            ["meeting_id"],
            unique=True,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("uq_broadcasts_running_meeting")
        batch_op.drop_index(batch_op.f("ix_broadcasts_meeting_id"))
    op.drop_table("broadcasts")
