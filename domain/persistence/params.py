"""Bind-parameter markers for hand-written SQL: PostgreSQL (asyncpg) numbers them, SQLite
takes ``?``."""

from __future__ import annotations

from typing import Any


def placeholders(connection: Any, count: int) -> list[str]:
    """``count`` markers for statements sent through ``connection`` (a Tortoise client)."""
    if connection.capabilities.dialect == "postgres":
        return [f"${index}" for index in range(1, count + 1)]
    return ["?"] * count
