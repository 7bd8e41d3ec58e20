"""attendance records and counties' self-inspection reports

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-02 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attendance_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round", sa.String(length=7), nullable=False),
        sa.Column("village_id", sa.Integer(), nullable=False),
        sa.Column("secretary", sa.String(length=50), nullable=True),
        sa.Column("days_present", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["village_id"], ["village.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round", "village_id"),
    )
    with op.batch_alter_table("attendance_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attendance_record_round"), ["round"], unique=False)
    op.create_table(
        "county_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round", sa.String(length=7), nullable=False),
        sa.Column("county", sa.String(length=50), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("round", "county", "sha256"),
    )
    with op.batch_alter_table("county_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_county_report_round"), ["round"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("county_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_county_report_round"))
    op.drop_table("county_report")
    with op.batch_alter_table("attendance_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_record_round"))
    op.drop_table("attendance_record")
