"""metrics indexes: date ranges per department/category, resolved_at, open requests

The dashboards (app/metrics) and the public figures filter requests by filing
date over every department, one department or one category, and by
resolution date; the backlog and the staff queue read open requests in filing
order. ``ix_tickets_category_created`` replaces ``ix_tickets_category_id``
(category first, so it still serves the foreign key). The partial index on
open requests has the same predicate on both databases
(``app.tickets.models.OPEN_STATUS_SQL``).

Revision ID: 1020_metrics_indexes
Revises: 0920_security
Create Date: 2026-12-01 15:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '1020_metrics_indexes'
down_revision = '0920_security'
branch_labels = None
depends_on = None

OPEN_STATUS_SQL = "status IN ('in_progress', 'in_review', 'received', 'waiting_resident')"


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_category_id')
        batch_op.create_index('ix_tickets_category_created', ['category_id', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_tickets_department_created', ['department_id', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_resolved_at', ['resolved_at'], unique=False)
        batch_op.create_index('ix_tickets_open_created', ['created_at', 'id'], unique=False,
                              postgresql_where=sa.text(OPEN_STATUS_SQL),
                              sqlite_where=sa.text(OPEN_STATUS_SQL))


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_open_created')
        batch_op.drop_index('ix_tickets_resolved_at')
        batch_op.drop_index('ix_tickets_department_created')
        batch_op.drop_index('ix_tickets_created_at')
        batch_op.drop_index('ix_tickets_category_created')
        batch_op.create_index('ix_tickets_category_id', ['category_id'], unique=False)
