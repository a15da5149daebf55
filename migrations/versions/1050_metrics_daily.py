"""daily rollups of the dashboard's additive figures: metrics_daily, metrics_rollup_state; the open-requests index covers the dashboard's live open counts

Revision ID: 1050_metrics_daily
Revises: 1040_totp
Create Date: 2026-12-01 17:53:30.615249

"""
from alembic import op
import sqlalchemy as sa

import app.database


# revision identifiers, used by Alembic.
revision = '1050_metrics_daily'
down_revision = '1040_totp'
branch_labels = None
depends_on = None

OPEN_STATUS_SQL = "status IN ('in_progress', 'in_review', 'received', 'waiting_resident')"
OPEN_INDEX_COLUMNS = ['created_at', 'id', 'status', 'resolution_due_at', 'department_id',
                      'category_id', 'channel', 'macrosector_id', 'clock_kind', 'resolved_at', 'closed_at',
                      'deadline_extended_at']


def _open_index(columns):
    op.drop_index('ix_tickets_open_created', table_name='tickets', if_exists=True)
    op.create_index('ix_tickets_open_created', 'tickets', columns, unique=False,
                    postgresql_where=sa.text(OPEN_STATUS_SQL),
                    sqlite_where=sa.text(OPEN_STATUS_SQL))


def upgrade():
    op.create_table('metrics_rollup_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('through_day', sa.Date(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('refreshed_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_metrics_rollup_state'))
    )
    op.create_table('metrics_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('web', 'email', 'phone', 'counter', 'api', 'open311', name='channel', native_enum=False, length=32), nullable=False),
    sa.Column('clock_kind', sa.String(length=16), nullable=False),
    sa.Column('filed', sa.Integer(), nullable=False),
    sa.Column('due_on_time', sa.Integer(), nullable=False),
    sa.Column('due_late', sa.Integer(), nullable=False),
    sa.Column('legal_on_time', sa.Integer(), nullable=False),
    sa.Column('legal_extended', sa.Integer(), nullable=False),
    sa.Column('legal_late', sa.Integer(), nullable=False),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('yes', sa.Integer(), nullable=False),
    sa.Column('no', sa.Integer(), nullable=False),
    sa.Column('partly', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('courtesy_sum', sa.Integer(), nullable=False),
    sa.Column('courtesy_n', sa.Integer(), nullable=False),
    sa.Column('time_sum', sa.Integer(), nullable=False),
    sa.Column('time_n', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_metrics_daily_category_id_categories')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_metrics_daily_department_id_departments')),
    sa.PrimaryKeyConstraint('day', 'department_id', 'category_id', 'channel', 'clock_kind', name=op.f('pk_metrics_daily'))
    )
    _open_index(OPEN_INDEX_COLUMNS)


def downgrade():
    _open_index(['created_at', 'id', 'status'])
    op.drop_table('metrics_daily')
    op.drop_table('metrics_rollup_state')
