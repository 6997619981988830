from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_tickets')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SlaMetric',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='sla_metrics', on_delete=OnDelete.CASCADE)),
                ('metric', fields.CharField(max_length=20)),
                ('cycle', fields.IntField(default=1)),
                ('policy_key', fields.CharField(max_length=120)),
                ('target_microseconds', fields.BigIntField()),
                ('calendar_key', fields.CharField(max_length=120)),
                ('warn_percent', fields.IntField()),
                ('state', fields.CharField(db_index=True, max_length=10)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('elapsed_microseconds', fields.BigIntField(default=0)),
                ('running_since', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('due_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('warn_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('warned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('stopped_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('breached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sla_metrics', 'app': 'models', 'unique_together': (('ticket', 'metric', 'cycle'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaPolicySet',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('number', fields.IntField(unique=True)),
                ('content_hash', fields.CharField(max_length=64)),
                ('definition', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('source', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.CharField(default='system', max_length=120)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sla_policy_sets', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaSheet',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.OneToOneField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='sla_sheet', on_delete=OnDelete.CASCADE)),
                ('policy_key', fields.CharField(null=True, max_length=120)),
                ('status', fields.CharField(max_length=8)),
                ('priority', fields.CharField(max_length=8)),
                ('agent_replied', fields.BooleanField(default=False)),
                ('awaiting_reply', fields.BooleanField(default=False)),
                ('lock_version', fields.IntField(default=0)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'sla_sheets', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlaEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='sla_events', on_delete=OnDelete.CASCADE)),
                ('sla_metric', fields.ForeignKeyField('models.SlaMetric', source_field='sla_metric_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=10)),
                ('policy_key', fields.CharField(max_length=120)),
                ('metric', fields.CharField(max_length=20)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('margin_seconds', fields.FloatField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sla_events', 'app': 'models', 'indexes': [Index(fields=['ticket_id', 'at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Ticket',
            name='sla_due_at',
            field=fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
        ),
    ]
