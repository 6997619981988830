from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_sla')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['actor', 'id']),
        ),
        ops.AlterField(
            model_name='EmailMessage',
            name='status',
            field=fields.CharField(default='PENDING', max_length=10),
        ),
        ops.AlterField(
            model_name='WebhookDelivery',
            name='status',
            field=fields.CharField(default='PENDING', max_length=10),
        ),
    ]
