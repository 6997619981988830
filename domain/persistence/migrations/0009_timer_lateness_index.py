from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_identity')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Timer',
            index=Index(fields=['status', 'fired_at']),
        ),
    ]
