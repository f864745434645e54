"""Handoffs: conversations waiting for a member of staff.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("clinic_open", sa.Boolean, nullable=False),
        sa.Column("reply_by", sa.DateTime, nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("resolved_at", sa.DateTime, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("handoffs")
