"""transparency: pilot departments and progress updates

Revision ID: 1010_transparency
Revises: 0900_admin
Create Date: 2026-12-01 12:40:00

"""
from alembic import op
import sqlalchemy as sa

import app.database


revision = '1010_transparency'
down_revision = '0900_admin'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('transparency_pilots',
    sa.Column('department_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('chosen_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('chosen_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['chosen_by_id'], ['users.id'], name=op.f('fk_transparency_pilots_chosen_by_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_transparency_pilots_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', name=op.f('pk_transparency_pilots'))
    )
    op.create_table('progress_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('published_at', app.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_progress_updates_author_id_users')),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_progress_updates_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_progress_updates'))
    )
    with op.batch_alter_table('progress_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_updates_department_id'), ['department_id'], unique=False)


def downgrade():
    with op.batch_alter_table('progress_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_updates_department_id'))
    op.drop_table('progress_updates')
    op.drop_table('transparency_pilots')
