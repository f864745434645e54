"""Bookings, and the calendar blocks they hold (unique per practitioner and block).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("idempotency_key", sa.String(128), nullable=True, unique=True),
        sa.Column("consultation_type", sa.String(40), nullable=False),
        sa.Column("practitioner_id", sa.String(40), nullable=False),
        sa.Column("start_at", sa.DateTime, nullable=False, index=True),
        sa.Column("end_at", sa.DateTime, nullable=False),
        sa.Column("patient_name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False, index=True),
        sa.Column("concern", sa.Text, nullable=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("conversation_id", sa.String(255), nullable=True, index=True),
        sa.Column("screening_reference", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="confirmed"),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "slot_claims",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "booking_id",
            sa.Integer,
            sa.ForeignKey("bookings.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("practitioner_id", sa.String(40), nullable=False),
        sa.Column("block_start", sa.DateTime, nullable=False),
        sa.UniqueConstraint("practitioner_id", "block_start", name="uq_slot_claims_block"),
    )


def downgrade() -> None:
    op.drop_table("slot_claims")
    op.drop_table("bookings")
