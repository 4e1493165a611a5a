"""objective values from covering indexes: record_value, run lateness, a step's copy of its run

Revision ID: 785a62740a75
Revises: ffbc537015c6
Create Date: 2026-12-05 14:06:02.393938

"""
from alembic import op
import sqlalchemy as sa

import portal.database


# revision identifiers, used by Alembic.
revision = '785a62740a75'
down_revision = 'ffbc537015c6'
branch_labels = None
depends_on = None

# record_value rows of the records already issued, as portal.records.models.value_rows makes
# them: numbers, true/false, and texts of at most 200 characters (MEASURED_TEXT_CHARS).
_VALUES_SQLITE = """
INSERT INTO record_value (record_id, field, form_id, status, created_at, department_id, number, text, flag)
SELECT r.id, j.key, r.form_id, r.status, r.created_at, r.department_id,
       CASE WHEN j.type IN ('integer', 'real') THEN j.value END,
       CASE WHEN j.type = 'text' THEN j.value END,
       CASE j.type WHEN 'true' THEN 1 WHEN 'false' THEN 0 END
FROM record AS r, json_each(CASE WHEN json_type(r.data) = 'object' THEN r.data END) AS j
WHERE j.type IN ('integer', 'real', 'true', 'false') OR (j.type = 'text' AND length(j.value) <= 200)
"""
_VALUES_POSTGRESQL = """
INSERT INTO record_value (record_id, field, form_id, status, created_at, department_id, number, text, flag)
SELECT r.id, j.key, r.form_id, r.status, r.created_at, r.department_id,
       CASE WHEN json_typeof(j.value) = 'number' THEN (j.value #>> '{}')::double precision END,
       CASE WHEN json_typeof(j.value) = 'string' THEN j.value #>> '{}' END,
       CASE WHEN json_typeof(j.value) = 'boolean' THEN (j.value #>> '{}')::boolean END
FROM record AS r
CROSS JOIN LATERAL json_each(CASE WHEN json_typeof(r.data) = 'object' THEN r.data ELSE '{}' END) AS j
WHERE json_typeof(j.value) IN ('number', 'boolean')
   OR (json_typeof(j.value) = 'string' AND length(j.value #>> '{}') <= 200)
"""


def upgrade():
    with portal.database.quiet_index_reflection():
        _upgrade()


def downgrade():
    with portal.database.quiet_index_reflection():
        _downgrade()


def _upgrade():
    op.create_table('record_value',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=64), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', portal.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Float(), nullable=True),
    sa.Column('text', sa.String(length=200), nullable=True),
    sa.Column('flag', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_record_value_department_id_department')),
    sa.ForeignKeyConstraint(['form_id'], ['document.id'], name=op.f('fk_record_value_form_id_document')),
    sa.ForeignKeyConstraint(['record_id'], ['record.id'], name=op.f('fk_record_value_record_id_record'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', 'field', name=op.f('pk_record_value'))
    )
    dialect = op.get_bind().dialect.name
    op.execute(_VALUES_POSTGRESQL if dialect == 'postgresql' else _VALUES_SQLITE)
    with op.batch_alter_table('record_value', schema=None) as batch_op:
        batch_op.create_index('ix_record_value_measure', ['form_id', 'field', 'status', 'created_at', 'department_id', 'number', 'text', 'flag'], unique=False)

    with op.batch_alter_table('procedure_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late', sa.Boolean(), nullable=True))
    # as portal.procedures.models fixes it when a run closes
    op.execute("UPDATE procedure_run SET late = EXISTS (SELECT 1 FROM run_step AS s "
               "WHERE s.run_id = procedure_run.id AND s.completed_at > s.due_at) WHERE state = 'closed'")
    with op.batch_alter_table('procedure_run', schema=None) as batch_op:
        batch_op.create_index('ix_procedure_run_on_time', ['document_id', 'state', 'closed_at', 'late', 'department_id'], unique=False)

    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.create_index('ix_record_form_created', ['form_id', 'created_at', 'status', 'department_id'], unique=False)

    with op.batch_alter_table('run_step', schema=None) as batch_op:
        batch_op.add_column(sa.Column('document_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('run_department_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('run_cancelled', sa.Boolean(), nullable=True))
    op.execute("UPDATE run_step SET "
               "document_id = (SELECT r.document_id FROM procedure_run AS r WHERE r.id = run_step.run_id), "
               "run_department_id = (SELECT r.department_id FROM procedure_run AS r WHERE r.id = run_step.run_id), "
               "run_cancelled = (SELECT r.state = 'cancelled' FROM procedure_run AS r WHERE r.id = run_step.run_id)")
    with op.batch_alter_table('run_step', schema=None) as batch_op:
        batch_op.alter_column('document_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('run_department_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('run_cancelled', existing_type=sa.Boolean(), nullable=False)
        batch_op.create_index('ix_run_step_on_time', ['document_id', 'index', 'state', 'completed_at', 'due_at', 'run_cancelled', 'run_department_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_run_step_document_id_document'), 'document', ['document_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_run_step_run_department_id_department'), 'department', ['run_department_id'], ['id'])


def _downgrade():
    with op.batch_alter_table('run_step', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_run_step_run_department_id_department'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_run_step_document_id_document'), type_='foreignkey')
        batch_op.drop_index('ix_run_step_on_time')
        batch_op.drop_column('run_cancelled')
        batch_op.drop_column('run_department_id')
        batch_op.drop_column('document_id')

    with op.batch_alter_table('record', schema=None) as batch_op:
        batch_op.drop_index('ix_record_form_created')

    # In place (SQLite 3.35+ drops a column itself): a batch copy of procedure_run would drop
    # the table run_step refers to, which foreign keys refuse once there are runs.
    with op.batch_alter_table('procedure_run', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_procedure_run_on_time')
        batch_op.drop_column('late')

    with op.batch_alter_table('record_value', schema=None) as batch_op:
        batch_op.drop_index('ix_record_value_measure')

    op.drop_table('record_value')
