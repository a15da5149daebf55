"""metrics indexes, second step: status in the open-requests index, Ley 20.285 index

With ``status`` in ``ix_tickets_open_created`` the backlog reads only the
index (SQLite: covering index; PostgreSQL: index-only scan once vacuumed);
``ix_tickets_clock_kind_created`` serves the legal-clock figure.

A separate step because ``1020_metrics_indexes`` was already applied to
benchmark databases; ``if_exists``/``if_not_exists`` keep it safe on a
database that got these indexes from an early copy of 1020.

Revision ID: 1021_metrics_indexes_covering
Revises: 1020_metrics_indexes
Create Date: 2026-12-01 15:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '1021_metrics_indexes_covering'
down_revision = '1020_metrics_indexes'
branch_labels = None
depends_on = None

OPEN_STATUS_SQL = "status IN ('in_progress', 'in_review', 'received', 'waiting_resident')"


def upgrade():
    op.drop_index('ix_tickets_open_created', table_name='tickets', if_exists=True)
    op.create_index('ix_tickets_open_created', 'tickets', ['created_at', 'id', 'status'],
                    unique=False, postgresql_where=sa.text(OPEN_STATUS_SQL),
                    sqlite_where=sa.text(OPEN_STATUS_SQL))
    op.create_index('ix_tickets_clock_kind_created', 'tickets', ['clock_kind', 'created_at'],
                    unique=False, if_not_exists=True)


def downgrade():
    op.drop_index('ix_tickets_clock_kind_created', table_name='tickets')
    op.drop_index('ix_tickets_open_created', table_name='tickets')
    op.create_index('ix_tickets_open_created', 'tickets', ['created_at', 'id'], unique=False,
                    postgresql_where=sa.text(OPEN_STATUS_SQL),
                    sqlite_where=sa.text(OPEN_STATUS_SQL))
