"""file slides: the conversion state of meeting files and their slides

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 17:55:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("meeting_files", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("conversion", sa.String(length=16), nullable=False, server_default="none")
        )
        batch_op.add_column(
            sa.Column("conversion_progress", sa.Float(), nullable=False, server_default="1")
        )
        batch_op.add_column(sa.Column("conversion_error", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("slide_keys", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("meeting_files", schema=None) as batch_op:
        batch_op.drop_column("slide_keys")
        batch_op.drop_column("conversion_error")
        batch_op.drop_column("conversion_progress")
        batch_op.drop_column("conversion")
