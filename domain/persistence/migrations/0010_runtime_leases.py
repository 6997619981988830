from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_timer_lateness_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RuntimeLease',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=60)),
                ('holder', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'runtime_leases', 'app': 'models', 'pk_attr': 'name'},
            bases=['Model'],
        ),
    ]
