"""The demo data set has one log-in per role, with the passwords the README documents; the
salesperson's account owns customers, so logging in as them shows a scoped book."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.demo.accounts import DEMO_ACCOUNTS
from domain.demo.seed import seed_demo
from domain.identity.passwords import verify_password
from domain.identity.permissions import ROLES
from domain.persistence.db import close_database, open_database
from domain.persistence.models import Customer, User

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[dict[str, int]]:
    await open_database("sqlite://" + str(tmp_path / "t.sqlite3"))
    try:
        yield await seed_demo(seed=3, scale=0.02)
    finally:
        await close_database()


async def test_one_log_in_per_role_with_the_documented_password(
    seeded: dict[str, int],
) -> None:
    assert seeded["demo_accounts"] == len(ROLES)
    assert sorted(a.role for a in DEMO_ACCOUNTS) == sorted(ROLES)
    readme = README.read_text(encoding="utf-8")
    for account in DEMO_ACCOUNTS:
        user = await User.get(email=account.email)
        assert (user.role, user.active) == (account.role, True)
        assert verify_password(user.password_hash, account.password)
        assert not verify_password(user.password_hash, account.password + "x")
        assert account.email in readme
        assert account.password in readme
    sales = await User.get(email="sales@rapport.demo")
    assert sales.manager_id is not None
    assert await Customer.filter(owner_id=sales.id).exists()
