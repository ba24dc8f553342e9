"""create people: the shared person record (人员), its phones and documents

One person table every module links to (issue 15, decision 0023); a merged record stays and
points to the one that survived (merged_into_id).

Revision ID: 3b8d1f6a2c57
Revises: 7c1e5a0b9d42
Create Date: 2026-12-06 07:02:11.812977+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pingan.db.types

revision = '3b8d1f6a2c57'
down_revision = '7c1e5a0b9d42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('person',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('sex', sa.Enum('male', 'female', name='sex', native_enum=False, length=24), nullable=True),
    sa.Column('residence_text', sa.String(length=255), nullable=False),
    sa.Column('residence_division_code', sa.String(length=12), nullable=True),
    sa.Column('address_id', sa.Integer(), nullable=True),
    sa.Column('address_text', sa.String(length=255), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('merged_at', pingan.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', pingan.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['address_id'], ['address.id'], name=op.f('fk_person_address_id_address')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['person.id'], name=op.f('fk_person_merged_into_id_person')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_unit.id'], name=op.f('fk_person_org_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person')),
    sa.UniqueConstraint('id_number', name=op.f('uq_person_id_number'))
    )
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_name'), ['name'], unique=False)
        batch_op.create_index('ix_person_name_birth_date', ['name', 'birth_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_org_unit_id'), ['org_unit_id'], unique=False)

    op.create_table('person_document',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('passport', 'hk_macao_permit', 'taiwan_permit', 'exit_entry_permit', name='documentkind', native_enum=False, length=24), nullable=False),
    sa.Column('number', sa.String(length=30), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_document_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_document'))
    )
    with op.batch_alter_table('person_document', schema=None) as batch_op:
        batch_op.create_index('ix_person_document_number', ['number'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_document_person_id'), ['person_id'], unique=False)

    op.create_table('person_phone',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_person_phone_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_phone'))
    )
    with op.batch_alter_table('person_phone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_phone_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_phone_phone'), ['phone'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('person_phone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_phone_phone'))
        batch_op.drop_index(batch_op.f('ix_person_phone_person_id'))

    op.drop_table('person_phone')
    with op.batch_alter_table('person_document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_document_person_id'))
        batch_op.drop_index('ix_person_document_number')

    op.drop_table('person_document')
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_org_unit_id'))
        batch_op.drop_index('ix_person_name_birth_date')
        batch_op.drop_index(batch_op.f('ix_person_name'))
        batch_op.drop_index(batch_op.f('ix_person_merged_into_id'))

    op.drop_table('person')
