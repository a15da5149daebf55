"""notifications: HTML email bodies in the outbox, staff notification preferences

Revision ID: 0720_notifications
Revises: 0810_attachments_merging
Create Date: 2026-12-01 11:35:11.305145

"""
from alembic import op
import sqlalchemy as sa

import app.database


# revision identifiers, used by Alembic.
revision = '0720_notifications'
down_revision = '0810_attachments_merging'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('new_ticket', sa.Enum('off', 'immediate', 'hourly', 'daily', name='newticketmode', native_enum=False, length=16), nullable=False),
    sa.Column('assigned', sa.Boolean(), nullable=False),
    sa.Column('sla_warning', sa.Boolean(), nullable=False),
    sa.Column('sla_breach', sa.Boolean(), nullable=False),
    sa.Column('last_digest_at', app.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', app.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_staff_notification_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_staff_notification_preferences'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_html', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('template', sa.String(length=80), nullable=True))



def downgrade():
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_column('template')
        batch_op.drop_column('body_html')

    op.drop_table('staff_notification_preferences')
