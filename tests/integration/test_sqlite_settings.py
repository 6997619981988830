"""SQLite is set up for several writers (API, worker, scheduler): WAL journal, busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

from tortoise import Tortoise

from domain.persistence.db import close_database, open_database


async def test_wal_journal_and_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'wal.sqlite3'}"
    await open_database(url)
    try:
        conn = Tortoise.get_connection("default")
        _, journal = await conn.execute_query("PRAGMA journal_mode")
        _, timeout = await conn.execute_query("PRAGMA busy_timeout")
        assert str(journal[0][0]).lower() == "wal"
        assert int(timeout[0][0]) >= 5000
    finally:
        await close_database()


ROOT = str(Path(__file__).resolve().parents[2])

WRITER = """
import asyncio, sys
sys.path.insert(0, {root!r})
from domain.persistence.db import open_database, close_database
from domain.persistence.models import Team
async def main():
    await open_database({url!r}, migrate=False)
    for i in range(150):
        await Team.create(name=f"{{sys.argv[1]}}-{{i}}", name_fold="x")
    await close_database()
asyncio.run(main())
"""


async def test_two_processes_write_at_once_without_lock_errors(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    url = f"sqlite://{path}"
    await open_database(url)
    await close_database()
    script = WRITER.format(root=ROOT, url=url)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, name, stderr=asyncio.subprocess.PIPE
        )
        for name in ("a", "b")
    ]
    results = [await p.communicate() for p in procs]
    for proc, (_, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err.decode()[-2000:]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM teams").fetchone()[0] == 300
