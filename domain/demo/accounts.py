"""Demo log-ins: one user per role, with passwords written down in the README.

The demo seeder's staff get no passwords; this picks one seeded user per role (a salesperson
who owns customers, a manager who leads a team, ...), gives them a memorable e-mail and the
documented password, and creates the roles the seeded company lacks (MARKETING).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from domain.identity.passwords import hash_password
from domain.persistence.models import User
from domain.text import fold_required


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    password: str
    name: str


DEMO_ACCOUNTS = (
    DemoAccount("ADMIN", "admin@rapport.demo", "demo-admin-2026", "Quản trị Demo"),
    DemoAccount("MANAGER", "manager@rapport.demo", "demo-manager-2026", "Quản lý Demo"),
    DemoAccount("SALES", "sales@rapport.demo", "demo-sales-2026", "Kinh doanh Demo"),
    DemoAccount("SUPPORT", "support@rapport.demo", "demo-support-2026", "Hỗ trợ Demo"),
    DemoAccount("MARKETING", "marketing@rapport.demo", "demo-marketing-2026", "Tiếp thị Demo"),
    DemoAccount("ANALYST", "analyst@rapport.demo", "demo-analyst-2026", "Phân tích Demo"),
)


async def _pick(role: str, after_user_id: int) -> User | None:
    """The seeded user who shows the role best: managers lead a team, the others report to
    one (a salesperson with a manager owns customers)."""
    users = User.filter(id__gt=after_user_id, role=role, active=True, deleted_at=None)
    if role == "MANAGER":
        return await users.filter(manager_id=None).order_by("id").first()
    return (
        await users.exclude(manager_id=None).order_by("id").first()
        or await users.order_by("id").first()
    )


async def seed_demo_accounts(*, after_user_id: int = 0, at: dt.datetime | None = None) -> int:
    """Give each role's demo account its e-mail and password; how many accounts were set.

    ``at`` stamps the accounts it creates, so that the same seed gives the same rows.
    """
    done = 0
    async with in_transaction():
        for account in DEMO_ACCOUNTS:
            password_hash = hash_password(account.password)
            if await User.filter(email=account.email).exists():
                await User.filter(email=account.email).update(password_hash=password_hash)
            elif (user := await _pick(account.role, after_user_id)) is not None:
                await User.filter(id=user.id).update(
                    email=account.email, password_hash=password_hash
                )
            else:
                created = await User.create(
                    name=account.name,
                    name_fold=fold_required(account.name),
                    email=account.email,
                    role=account.role,
                    password_hash=password_hash,
                )
                if at is not None:
                    await User.filter(id=created.id).update(created_at=at, updated_at=at)
            done += 1
    return done
