from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Workflow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=120)),
                ('name', fields.CharField(max_length=200)),
                ('subject', fields.CharField(max_length=40)),
                ('status', fields.CharField(default='ACTIVE', max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'workflows', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkflowVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('models.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('content_hash', fields.CharField(max_length=64)),
                ('source', fields.TextField(unique=False)),
                ('definition', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'workflow_versions', 'app': 'models', 'unique_together': (('workflow', 'content_hash'), ('workflow', 'number')), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkflowRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('models.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='runs', on_delete=OnDelete.CASCADE)),
                ('version', fields.ForeignKeyField('models.WorkflowVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='runs', on_delete=OnDelete.RESTRICT)),
                ('subject_type', fields.CharField(max_length=40)),
                ('subject_id', fields.IntField()),
                ('state', fields.CharField(default='ACTIVE', max_length=10)),
                ('state_json', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('split_arm', fields.CharField(null=True, max_length=60)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lock_version', fields.IntField(default=0)),
            ],
            options={'table': 'workflow_runs', 'app': 'models', 'indexes': [Index(fields=['workflow_id', 'subject_type', 'subject_id', 'state'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('idempotency_key', fields.CharField(unique=True, max_length=200)),
                ('run', fields.ForeignKeyField('models.WorkflowRun', source_field='run_id', null=True, db_constraint=True, to_field='id', related_name='emails', on_delete=OnDelete.SET_NULL)),
                ('from_address', fields.CharField(null=True, max_length=320)),
                ('to_address', fields.CharField(max_length=320)),
                ('subject', fields.CharField(max_length=500)),
                ('text', fields.TextField(unique=False)),
                ('html', fields.TextField(null=True, unique=False)),
                ('status', fields.CharField(default='PENDING', max_length=8)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('sending_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('message_id', fields.CharField(null=True, max_length=300)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'email_messages', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Timer',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('models.WorkflowRun', source_field='run_id', null=True, db_constraint=True, to_field='id', related_name='timers', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=200)),
                ('purpose', fields.CharField(max_length=20)),
                ('due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='PENDING', max_length=10)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claim_token', fields.CharField(null=True, max_length=32)),
                ('attempts', fields.IntField(default=0)),
                ('fired_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'timers', 'app': 'models', 'unique_together': (('run', 'key'),), 'indexes': [Index(fields=['status', 'due_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkflowRunStep',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('models.WorkflowRun', source_field='run_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('step_id', fields.CharField(max_length=120)),
                ('kind', fields.CharField(max_length=40)),
                ('outcome', fields.CharField(max_length=12)),
                ('detail', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('input_key', fields.CharField(null=True, max_length=200)),
            ],
            options={'table': 'workflow_run_steps', 'app': 'models', 'unique_together': (('run', 'input_key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(model_name='Workflow', name='current_version', field=fields.ForeignKeyField('models.WorkflowVersion', source_field='current_version_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
    ]
