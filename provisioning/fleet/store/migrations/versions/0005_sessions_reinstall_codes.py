"""Server-side staff sessions (``dash_sessions``) and reinstall codes (``enrolment_codes.asset_tag``).

- Staff sessions live on the server: logout, a password change or disabling an account end them, so a
  copied cookie no longer opens the dashboard; the 8 h lifetime and the idle timeout are enforced here.
  Sessions opened before this revision (cookie only) are not in the table: their holders log in again.
- An enrolment code may be made for one asset tag (a staff decision): it alone may re-enrol a machine
  that is still checking in, or that belongs to another commune.
- Login failures are now also counted per (account, address): no schema change (the subject column).

Revision ID: 0005
Revises: 0003 (re-pointed to 0004 when the branches are merged)
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dash_sessions',
        sa.Column('id_sha256', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('last_seen_at', sa.Float(), nullable=False),
        sa.Column('ended_at', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['dash_users.id'], ),
        sa.PrimaryKeyConstraint('id_sha256'),
    )
    op.create_index('ix_dash_sessions_user', 'dash_sessions', ['user_id', 'created_at'])
    with op.batch_alter_table('enrolment_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asset_tag', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enrolment_codes', schema=None) as batch_op:
        batch_op.drop_column('asset_tag')
    op.drop_index('ix_dash_sessions_user', table_name='dash_sessions')
    op.drop_table('dash_sessions')
