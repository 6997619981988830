"""A failed BEGIN on SQLite must not leave the process unable to start another transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from tortoise import Tortoise
from tortoise.backends.sqlite.client import SqliteTransactionWrapper
from tortoise.exceptions import TransactionManagementError
from tortoise.transactions import in_transaction

from domain.persistence.db import close_database, open_database
from domain.persistence.models import Team
from domain.persistence.sqlite_engine import SafeSqliteClient


async def test_failed_begin_releases_the_transaction_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await open_database(f"sqlite://{tmp_path / 'lock.sqlite3'}")
    try:
        assert isinstance(Tortoise.get_connection("default"), SafeSqliteClient)
        original = SqliteTransactionWrapper.begin
        failures = iter([True])

        async def busy_once(self: SqliteTransactionWrapper) -> None:
            if next(failures, False):
                raise TransactionManagementError(sqlite3.OperationalError("database is locked"))
            await original(self)

        monkeypatch.setattr(SqliteTransactionWrapper, "begin", busy_once)
        with pytest.raises(TransactionManagementError):
            async with in_transaction():
                pass
        # With Tortoise's own context this would wait forever on the leaked lock.
        async with asyncio.timeout(5), in_transaction():
            await Team.create(name="Sau lỗi", name_fold="sau loi")
        assert await Team.filter(name="Sau lỗi").count() == 1
    finally:
        await close_database()
