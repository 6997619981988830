"""Tortoise's SQLite backend with a transaction context that cannot leak its lock.

Tortoise 1.1.9 serializes transactions on its single SQLite connection with an asyncio lock
taken in ``__aenter__`` *before* ``BEGIN``; when ``BEGIN`` fails (for example "database is
locked" after the busy timeout, with the API, the worker and the scheduler all writing), the
lock is never released and every later transaction of the process waits forever. This engine
is Tortoise's own client with that one method made safe; the configuration selects it for
``sqlite://`` URLs.
"""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import TransactionalDBClient, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)
from tortoise.connection import get_connections


class SafeSqliteTransactionContext(SqliteTransactionContext):
    async def __aenter__(self) -> TransactionalDBClient:
        await self._trxlock.acquire()
        try:
            await self.ensure_connection()
            self.token = get_connections().set(self.connection_name, self.connection)
            try:
                await self.connection.begin()
            except BaseException:
                get_connections().reset(self.token)
                raise
        except BaseException:
            self._trxlock.release()
            raise
        return self.connection


class SafeSqliteClient(SqliteClient):
    def _in_transaction(self) -> TransactionContext:
        return SafeSqliteTransactionContext(SqliteTransactionWrapper(self), self._lock)


client_class = SafeSqliteClient


def get_client_class(db_info: dict[str, Any]) -> type[SqliteClient]:
    return SafeSqliteClient
