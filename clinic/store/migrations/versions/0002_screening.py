"""Consent to keep health information, and screening results.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("given", sa.Boolean, nullable=False),
        sa.Column("wording_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "screenings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(16), nullable=False, unique=True),
        sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("rules_version", sa.Integer, nullable=False),
        sa.Column("answers", sa.Text, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("consent_id", sa.Integer, sa.ForeignKey("consents.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("booking_reference", sa.String(16), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("screenings")
    op.drop_table("consents")
