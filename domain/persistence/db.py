"""Opening, migrating and closing the database for any process (API, worker, CLI, tests)."""

from __future__ import annotations

from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.api.migrate import migrate as run_migrations

from domain.persistence.config import tortoise_config


async def migrate_database(db_url: str) -> None:
    """Apply every pending migration (Tortoise's built-in migration framework)."""
    try:
        await run_migrations(config=tortoise_config(db_url))
    finally:
        await Tortoise.close_connections()


async def open_database(db_url: str, *, migrate: bool = True) -> None:
    """Connect this process to the database, applying pending migrations first if asked.

    The global fallback is enabled because one process serves many tasks (requests, actors)
    that do not inherit the context variable Tortoise 1.x keeps its state in.
    """
    # Tortoise caches prepared INSERT/DELETE statements per (connection name, table), not per
    # dialect: a process that reopens on another backend (the test suite runs SQLite and then
    # PostgreSQL) would reuse SQLite's placeholders on PostgreSQL.
    EXECUTOR_CACHE.clear()
    if migrate:
        await migrate_database(db_url)
    await Tortoise.init(config=tortoise_config(db_url), _enable_global_fallback=True)


async def close_database() -> None:
    await Tortoise.close_connections()
