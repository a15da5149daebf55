"""first-response deadline alerts: tickets.first_response_warn_at, _warned_at, _breached_at

Requests filed before this migration get no warning instant, so they are
never warned for their first response; those already past their
first-response due date without an answer are marked as breached now
(without an email), so the first sweep after the upgrade does not escalate
the whole backlog at once. Later breaches are escalated as usual.

Revision ID: 1030_first_response_alerts
Revises: 1021_metrics_indexes_covering
Create Date: 2026-12-01 15:00:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa

import app.database


# revision identifiers, used by Alembic.
revision = '1030_first_response_alerts'
down_revision = '1021_metrics_indexes_covering'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_warn_at', app.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_warned_at', app.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_breached_at', app.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_first_response_warn_at'), ['first_response_warn_at'], unique=False)
    tickets = sa.table(
        'tickets',
        sa.column('first_response_at', app.database.UTCDateTime(timezone=True)),
        sa.column('first_response_due_at', app.database.UTCDateTime(timezone=True)),
        sa.column('first_response_breached_at', app.database.UTCDateTime(timezone=True)),
    )
    now = datetime.now(UTC)
    op.execute(tickets.update()
               .where(tickets.c.first_response_at.is_(None),
                      tickets.c.first_response_due_at.is_not(None),
                      tickets.c.first_response_due_at <= now)
               .values(first_response_breached_at=now))


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_first_response_warn_at'))
        batch_op.drop_column('first_response_breached_at')
        batch_op.drop_column('first_response_warned_at')
        batch_op.drop_column('first_response_warn_at')
