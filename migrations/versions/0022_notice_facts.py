"""Mail notices keep what to say (`facts`) and get their words when their message is
composed: the sweep writes hundreds of notices per batch, and rendering each in its
reader's language and timezone was a quarter of the sweep's time. Rows written before
keep their words; `subject`, `body_text` and `body_html` are empty until composition.

Revision ID: 0022_notice_facts
Revises: 0021_search_partner
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_notice_facts"
down_revision = "0021_search_partner"
branch_labels = None
depends_on = None

WORDS = (
    ("subject", sa.String(length=300)),
    ("body_text", sa.Text()),
    ("body_html", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("mail_notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts", sa.JSON(), nullable=True))
        for name, kind in WORDS:
            batch_op.alter_column(name, existing_type=kind, nullable=True)


def downgrade() -> None:
    # A notice not yet composed has no words to keep: it is told as "updated" instead.
    notices = sa.table(
        "mail_notices",
        sa.column("subject", sa.String()),
        sa.column("body_text", sa.Text()),
        sa.column("body_html", sa.Text()),
    )
    op.execute(
        notices.update()
        .where(notices.c.body_text.is_(None))
        .values(subject="Trustomer: updated", body_text="Updated.", body_html="<p>Updated.</p>")
    )
    with op.batch_alter_table("mail_notices", schema=None) as batch_op:
        for name, kind in WORDS:
            batch_op.alter_column(name, existing_type=kind, nullable=False)
        batch_op.drop_column("facts")
