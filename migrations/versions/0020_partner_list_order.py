"""The partner's two list orders as whole indexes: newest public change first, then id
(the portal), and newest id first (the API).

`/portal/conflicts` and the partner's API list read `partner_id = ? ORDER BY
public_updated_at DESC, id DESC LIMIT n`. SQLite's index already ends in the rowid (the id);
PostgreSQL's did not, so it sorted every conflict of the partner for each page (an
incremental sort over ~2,000 rows at 100,000 conflicts, 13 ms); with the id in the index a
page is a backward index scan that stops after n rows.

The API's list reads `partner_id = ? ORDER BY id DESC LIMIT n`: no index had that order,
so SQLite sorted the partner's rows in a temporary B-tree (12 ms) and PostgreSQL walked the
primary key backwards skipping other partners' rows. `ix_conflicts_partner_newest`
(partner_id, id) serves it directly on both.

Revision ID: 0020_partner_list_order
Revises: 0019_trust_day_counts
"""

from alembic import op

revision = "0020_partner_list_order"
down_revision = "0019_trust_day_counts"
branch_labels = None
depends_on = None

INDEX = "ix_conflicts_partner_public_updated"
NEWEST = "ix_conflicts_partner_newest"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="conflicts")
    op.create_index(INDEX, "conflicts", ["partner_id", "public_updated_at", "id"])
    op.create_index(NEWEST, "conflicts", ["partner_id", "id"])
    op.execute("ANALYZE conflicts")


def downgrade() -> None:
    op.drop_index(NEWEST, table_name="conflicts")
    op.drop_index(INDEX, table_name="conflicts")
    op.create_index(INDEX, "conflicts", ["partner_id", "public_updated_at"])
