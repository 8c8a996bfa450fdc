"""The reports' closed months, summed once: report_windows and report_window_counts.

`/console/reports` summed every group's hour counts over the window on each request, and
the covering index of 0025 still made it walk every month of history per group (about
45,000 index entries for 2,900 sums at 100,000 conflicts). A month that has ended no longer
changes, so the scheduler's `report_windows` job sums a window's closed months once
(services/reports.close_window) and the page adds the current month's rows to them. Empty
here: the job (or a reader's fallback to the full sum) covers the time until it first runs.

Revision ID: 0026_report_windows
Revises: 0025_reports_covering
"""

import sqlalchemy as sa
from alembic import op

import tracker.models.types

revision = "0026_report_windows"
down_revision = "0025_reports_covering"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("last_month", sa.Date(), nullable=False),
        sa.Column("facts", sa.Integer(), nullable=False),
        sa.Column("built_at", tracker.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_windows")),
        sa.UniqueConstraint("first_month", "last_month", name="uq_report_windows"),
    )
    op.create_table(
        "report_window_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("window_id", sa.Integer(), nullable=False),
        sa.Column("grouping", sa.String(length=16), nullable=False),
        sa.Column("group_key", sa.String(length=32), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("business_hours", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["window_id"],
            ["report_windows.id"],
            name=op.f("fk_report_window_counts_window_id_report_windows"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_window_counts")),
    )
    op.create_index(
        "ix_report_window_counts_by_window",
        "report_window_counts",
        ["window_id", "grouping", "group_key", "month", "measure", "business_hours", "conflicts"],
    )


def downgrade() -> None:
    op.drop_index("ix_report_window_counts_by_window", table_name="report_window_counts")
    op.drop_table("report_window_counts")
    op.drop_table("report_windows")
