"""admin: when each API key was last used (shown on the administration page)

Revision ID: 0900_admin
Revises: 0930_privacy_audit
Create Date: 2026-12-01 12:35:00

"""
from alembic import op
import sqlalchemy as sa

import app.database


# revision identifiers, used by Alembic.
revision = '0900_admin'
down_revision = '0930_privacy_audit'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', app.database.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
