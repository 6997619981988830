from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0004_workflow_segments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(db_index=True, auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(default='system', max_length=120)),
                ('updated_by', fields.CharField(default='system', max_length=120)),
                ('subject', fields.CharField(max_length=500)),
                ('subject_fold', fields.CharField(max_length=500)),
                ('status', fields.CharField(default='NEW', db_index=True, max_length=8)),
                ('priority', fields.CharField(default='NORMAL', db_index=True, max_length=8)),
                ('channel', fields.CharField(default='EMAIL', max_length=8)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.CASCADE)),
                ('assignee', fields.ForeignKeyField('models.User', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name='assigned_tickets', on_delete=OnDelete.SET_NULL)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', null=True, db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.SET_NULL)),
                ('escalation_level', fields.IntField(default=0)),
                ('tags', fields.CharField(default='', max_length=2000)),
                ('solved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tickets', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'created_at']), Index(fields=['assignee_id', 'status'])], 'pk_attr': 'id'},
            bases=['Record'],
        ),
        ops.CreateModel(
            name='TicketComment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(db_index=True, auto_now=True, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.CharField(default='system', max_length=120)),
                ('updated_by', fields.CharField(default='system', max_length=120)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('author_user', fields.ForeignKeyField('models.User', source_field='author_user_id', null=True, db_constraint=True, to_field='id', related_name='ticket_comments', on_delete=OnDelete.SET_NULL)),
                ('author_customer', fields.ForeignKeyField('models.Customer', source_field='author_customer_id', null=True, db_constraint=True, to_field='id', related_name='ticket_comments', on_delete=OnDelete.SET_NULL)),
                ('public', fields.BooleanField(default=True)),
                ('body', fields.TextField(unique=False)),
            ],
            options={'table': 'ticket_comments', 'app': 'models', 'indexes': [Index(fields=['ticket_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Record'],
        ),
        ops.AddField(model_name='Ticket', name='follow_up_of', field=fields.ForeignKeyField('models.Ticket', source_field='follow_up_of_id', null=True, db_constraint=True, to_field='id', related_name='follow_ups', on_delete=OnDelete.SET_NULL)),
    ]
