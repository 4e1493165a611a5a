"""session versions, login throttle, case-insensitive usernames

Revision ID: cae0b9052f05
Revises: c0c0998a7801
Create Date: 2026-12-03 17:13:18.145022

"""
from alembic import op
import sqlalchemy as sa

import portal.database


# revision identifiers, used by Alembic.
revision = 'cae0b9052f05'
down_revision = 'c0c0998a7801'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', portal.database.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('address', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_throttle_locked_until'), ['locked_until'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))

    _refuse_names_differing_only_by_case()
    # Usernames are ASCII (portal.accounts.services.USERNAME), so lower() agrees on both
    # databases; autogenerate cannot compare expression indexes, so it is written by hand.
    op.create_index('uq_user_username_lower', 'user', [sa.text('lower(username)')], unique=True)


def _refuse_names_differing_only_by_case():
    """Two accounts such as `Admin` and `admin` cannot be merged by a migration: say which."""
    user = sa.table('user', sa.column('username', sa.String))
    key = sa.func.lower(user.c.username)
    clashes = op.get_bind().execute(
        sa.select(key).group_by(key).having(sa.func.count() > 1)).scalars().all()
    if clashes:
        raise RuntimeError("Usernames that differ only by case must be renamed before this "
                           "upgrade (portal treats them as one name): " + ", ".join(sorted(clashes)))


def downgrade():
    op.drop_index('uq_user_username_lower', table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('login_throttle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_throttle_locked_until'))

    op.drop_table('login_throttle')
