"""`crm users deactivate` as an administrator runs it: a real process on the test database."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from domain.persistence import models as m
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user

ROOT = Path(__file__).resolve().parents[1]


async def _crm(db_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url, "RAPPORT_ENV": "development"}
    command = [sys.executable, "-m", "app.cli", "users", *args]
    return await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


async def test_deactivate_hands_over_then_refuses_bad_input(database: str) -> None:
    leaving = await create_user(name="Người Nghỉ", email="leaving@rapport.vn", actor="t")
    heir = await create_user(name="Người Nhận", email="heir@rapport.vn", actor="t")
    mate = await create_user(name="Đồng Đội", email="mate@rapport.vn", actor="t")
    team = await create_team(name="Kinh doanh", lead_id=mate.id, actor="t")
    await add_member(team.id, leaving.id, actor="t")
    await m.Customer.bulk_create(
        [
            m.Customer(
                kind="PERSON", display_name=f"K{i}", display_name_fold=f"k{i}", owner_id=leaving.id
            )
            for i in range(3)
        ]
    )

    refused = await _crm(
        database, "deactivate", "--email", "leaving@rapport.vn", "--to", "leaving@rapport.vn"
    )
    assert refused.returncode == 1
    assert "themselves" in refused.stderr
    unknown = await _crm(
        database, "deactivate", "--email", "nobody@rapport.vn", "--to", "heir@rapport.vn"
    )
    assert unknown.returncode == 1
    assert "not found" in unknown.stderr
    assert await m.Customer.filter(owner_id=leaving.id).count() == 3

    done = await _crm(
        database, "deactivate", "--email", "leaving@rapport.vn", "--to", "heir@rapport.vn"
    )
    assert done.returncode == 0, done.stderr
    assert "reassigned 3 Customer, 0 Opportunity, 0 Task" in done.stderr
    assert await m.Customer.filter(owner_id=heir.id).count() == 3
    assert (await m.User.get(id=leaving.id)).active is False
    [entry] = await m.AuditEntry.filter(action="user.deactivate")
    assert entry.actor == "cli"
