"""Platform message ids (to drop replays), long button payloads (by token), and the options
last offered on channels without buttons.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False, index=True),
        sa.UniqueConstraint("channel", "message_id", name="uq_inbound_message"),
    )
    op.create_table(
        "pending_options",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("payloads", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "button_payloads",
        sa.Column("token", sa.String(24), primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("button_payloads")
    op.drop_table("pending_options")
    op.drop_table("inbound_messages")
