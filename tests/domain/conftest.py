"""A fresh SQLite file database per test, migrated the way every process opens it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.persistence.db import close_database, open_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[None]:
    await open_database(f"sqlite://{tmp_path / 'crm.sqlite3'}")
    try:
        yield
    finally:
        await close_database()
