"""The reports' rollups per grouping: counts and time counts per month and per partner,
category, assignee or the month as a whole, so each grouping reads its own rows instead of
every grouping scanning the window's rows per (partner, category, assignee).

Replaces monthly_rollups and monthly_time_counts by report_rollups and report_time_counts,
filled from the conflicts and the ledger by `services/count_rebuild.rebuild_rollups` (what
the application counts). A downgrade recreates the old tables empty.

Revision ID: 0024_reports_groupings
Revises: 0023_search_scoped
"""

import sqlalchemy as sa
from alembic import op

from tracker.services import count_rebuild

revision = "0024_reports_groupings"
down_revision = "0023_search_scoped"
branch_labels = None
depends_on = None

COUNTERS = ("raised", "triaged", "resolved", "sla_met", "reopened", "disputed")


def _keys() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("grouping", sa.String(length=16), nullable=False),
        sa.Column("group_key", sa.String(length=32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "report_rollups",
        *_keys(),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_rollups")),
        sa.UniqueConstraint("month", "grouping", "group_key", name="uq_report_rollups"),
    )
    op.create_table(
        "report_time_counts",
        *_keys(),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("business_hours", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_time_counts")),
        sa.UniqueConstraint(
            "month",
            "grouping",
            "group_key",
            "measure",
            "business_hours",
            name="uq_report_time_counts",
        ),
    )
    count_rebuild.rebuild_rollups(op.get_bind())
    op.drop_table("monthly_time_counts")
    op.drop_table("monthly_rollups")


def _old_keys() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=False),
    ]


def downgrade() -> None:
    op.create_table(
        "monthly_rollups",
        *_old_keys(),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_monthly_rollups_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_rollups")),
        sa.UniqueConstraint(
            "month", "partner_id", "category", "assignee_id", name="uq_monthly_rollups"
        ),
    )
    op.create_table(
        "monthly_time_counts",
        *_old_keys(),
        sa.Column("measure", sa.String(length=16), nullable=False),
        sa.Column("business_hours", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_monthly_time_counts_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monthly_time_counts")),
        sa.UniqueConstraint(
            "month",
            "partner_id",
            "category",
            "assignee_id",
            "measure",
            "business_hours",
            name="uq_monthly_time_counts",
        ),
    )
    op.drop_table("report_time_counts")
    op.drop_table("report_rollups")
