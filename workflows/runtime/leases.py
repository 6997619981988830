"""Named leases in SQL: work that one process at a time should do (the event relay).

A lease is a row ``(name, holder, expires_at)``. :func:`take` inserts it, or takes it over
once it has expired, in one conditional upsert, so of several takers exactly one wins;
:func:`renew` pushes the expiry while the holder still has it; :func:`release` ends it. A
holder killed mid-work never releases: its lease expires and the next taker goes on. Each call
commits on its own, outside the caller's work transactions, so the lease is visible at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tortoise import Tortoise

from domain.persistence.params import placeholders

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def new_holder() -> str:
    return uuid.uuid4().hex


def _connection() -> Any:
    return Tortoise.get_connection("default")


async def take(name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Take the lease ``name`` for ``holder`` until ``now + ttl``, if nobody holds it (or its
    holder's lease expired); True if ``holder`` has it now."""
    connection = _connection()
    a, b, c, d = placeholders(connection, 4)
    # PostgreSQL: a concurrent taker waits on the row, then re-checks the WHERE against the
    # winner's expiry and updates nothing. SQLite: the statement holds the write lock.
    rows = await connection.execute_query_dict(
        f"INSERT INTO runtime_leases (name, holder, expires_at) VALUES ({a}, {b}, {c}) "
        "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
        f"expires_at = excluded.expires_at WHERE runtime_leases.expires_at <= {d} "
        "RETURNING holder",
        [name, holder, now + ttl, now],
    )
    return bool(rows) and rows[0]["holder"] == holder


async def renew(name: str, holder: str, now: dt.datetime, ttl: dt.timedelta) -> bool:
    """Extend ``holder``'s lease to ``now + ttl``; False if it is not ``holder``'s any more."""
    connection = _connection()
    a, b, c = placeholders(connection, 3)
    count, _ = await connection.execute_query(
        f"UPDATE runtime_leases SET expires_at = {a} WHERE name = {b} AND holder = {c}",
        [now + ttl, name, holder],
    )
    return bool(count)


async def release(name: str, holder: str) -> None:
    """End ``holder``'s lease (nothing if another holder has it now)."""
    connection = _connection()
    a, b, c = placeholders(connection, 3)
    await connection.execute_query(
        f"UPDATE runtime_leases SET expires_at = {a} WHERE name = {b} AND holder = {c}",
        [EPOCH, name, holder],
    )
