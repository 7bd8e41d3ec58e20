"""scan claims and retries: concurrent scans claim pages; rejected pages keep their history

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 18:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scan_claim",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("page_no", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["scan_file.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("file_id", "page_no"),
    )
    with op.batch_alter_table("scan_page", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reader_version", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("retry_hint", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("history", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scan_page", schema=None) as batch_op:
        batch_op.drop_column("history")
        batch_op.drop_column("retry_hint")
        batch_op.drop_column("reader_version")
    op.drop_table("scan_claim")
