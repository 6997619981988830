"""A subject never has two live runs of the same workflow: a partial unique index on
workflow_runs (workflow_id, subject_type, subject_id) WHERE state IN ('ACTIVE', 'WAITING').

Written by hand: Tortoise 1.1.9's UniqueConstraint(condition=...) is refused on SQLite, so the
index is raw SQL (the same on SQLite >= 3.8 and PostgreSQL). It is not part of the models'
migration state, so ``scripts/makemigrations.sh`` neither sees it nor generates anything for it.

Before the index is created, live duplicates that concurrent enrollments may already have left
are ended, so the migration cannot fail on a real database: per key the oldest live run (lowest
id) is kept, the others become EXITED with ended_at = now, and nothing else is changed.
"""

import datetime as dt
from typing import Any

from tortoise import migrations
from tortoise.migrations import operations as ops

INDEX_NAME = "workflow_runs_one_live_run"

#: Ends every live run that has an older live run of the same workflow and subject.
END_LIVE_DUPLICATES = (
    "UPDATE workflow_runs SET state = 'EXITED', ended_at = {now} "
    "WHERE state IN ('ACTIVE', 'WAITING') AND EXISTS ("
    "SELECT 1 FROM workflow_runs older "
    "WHERE older.workflow_id = workflow_runs.workflow_id "
    "AND older.subject_type = workflow_runs.subject_type "
    "AND older.subject_id = workflow_runs.subject_id "
    "AND older.state IN ('ACTIVE', 'WAITING') AND older.id < workflow_runs.id)"
)

CREATE_INDEX = (
    f"CREATE UNIQUE INDEX {INDEX_NAME} "
    "ON workflow_runs (workflow_id, subject_type, subject_id) "
    "WHERE state IN ('ACTIVE', 'WAITING')"
)

DROP_INDEX = f"DROP INDEX {INDEX_NAME}"


async def end_live_duplicates(client: Any, now: dt.datetime) -> None:
    """End all live runs but the oldest of each (workflow, subject), with ``client``."""
    mark = "$1" if client.capabilities.dialect == "postgres" else "?"
    await client.execute_query(END_LIVE_DUPLICATES.format(now=mark), [now])


async def _forward(apps: Any, schema_editor: Any) -> None:
    await end_live_duplicates(schema_editor.client, dt.datetime.now(dt.timezone.utc))


class Migration(migrations.Migration):
    dependencies = [('models', '0010_runtime_leases')]

    initial = False

    operations = [
        # Ending the duplicates cannot be undone: going back only drops the index.
        ops.RunPython(_forward, ops.RunPython.noop),
        ops.RunSQL(CREATE_INDEX, reverse_sql=DROP_INDEX),
    ]
