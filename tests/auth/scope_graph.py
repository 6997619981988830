"""Two sales teams' books of business, side by side, for the record-scope leak tests.

Team A (Hà Nội): salespeople ``sales_a`` and ``sales_a2``, support agent ``support_a``, led by
``manager_a`` (who is not a member: leading is enough). Team B (Sài Gòn): ``sales_b``.
``org_a`` (owned by sales_a) employs ``person_a`` (sales_a2's) and ``person_b`` (sales_b's);
``org_b`` is sales_b's. ``deal_cross`` and ``task_cross`` are team B's work on team A's customer
``person_a``: visible to B, not to A, although they hang off A's customer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import httpx

from domain.activities.interactions import log_interaction
from domain.activities.tasks import TaskInput, create_task
from domain.customers import services
from domain.customers.commands import OrganizationInput, PersonInput
from domain.identity.passwords import hash_password
from domain.sales.opportunities import create_opportunity
from domain.sales.pipelines import ensure_default_pipelines
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user
from tests.auth.helpers import login

PASSWORD = "scope-password-1"
ACTOR = "test"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

#: login name -> (role, team)
STAFF = {
    "sales_a": ("SALES", "A"),
    "sales_a2": ("SALES", "A"),
    "support_a": ("SUPPORT", "A"),
    "manager_a": ("MANAGER", None),
    "sales_b": ("SALES", "B"),
    "analyst": ("ANALYST", None),
    "marketing": ("MARKETING", None),
}


@dataclass
class ScopeGraph:
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)
    deals: dict[str, int] = field(default_factory=dict)
    tasks: dict[str, int] = field(default_factory=dict)
    interactions: dict[str, int] = field(default_factory=dict)


async def build_scope_graph(api: httpx.AsyncClient) -> ScopeGraph:
    g = ScopeGraph()
    password_hash = hash_password(PASSWORD)
    for name, (role, _) in STAFF.items():
        user = await create_user(
            name=name.replace("_", " ").title(),
            email=f"{name.replace('_', '.')}@rapport.vn",
            role=role,
            password_hash=password_hash,
            actor=ACTOR,
        )
        g.users[name] = user.id
    team_a = await create_team(name="Hà Nội", lead_id=g.users["manager_a"], actor=ACTOR)
    team_b = await create_team(name="Sài Gòn", actor=ACTOR)
    for name, (_, team) in STAFF.items():
        if team is not None:
            await add_member((team_a if team == "A" else team_b).id, g.users[name], actor=ACTOR)

    async def org(key: str, owner: str, domain: str) -> None:
        row = await services.create_organization(
            OrganizationInput(
                display_name=f"Công ty {key.upper()}", domain=domain, owner_id=g.users[owner]
            ),
            actor=ACTOR,
        )
        g.customers[key] = row.id

    async def person(key: str, owner: str, first: str, org_key: str) -> None:
        row = await services.create_person(
            PersonInput(
                first_name=first,
                last_name="Nguyễn",
                emails=[f"{key}@khachhang.vn"],
                phones=["0912345678" if key == "person_a" else "0987654321"],
                organization_id=g.customers[org_key],
                owner_id=g.users[owner],
            ),
            actor=ACTOR,
        )
        g.customers[key] = row.id

    await org("org_a", "sales_a", "org-a.vn")
    await org("org_b", "sales_b", "org-b.vn")
    await person("person_a", "sales_a2", "Hoa", "org_a")
    await person("person_b", "sales_b", "Bình", "org_a")

    pipeline = await ensure_default_pipelines(actor=ACTOR)
    for key, customer, owner, amount in (
        ("deal_a", "person_a", "sales_a", 1_000_000),
        ("deal_b", "person_b", "sales_b", 20_000_000),
        ("deal_cross", "person_a", "sales_b", 300_000_000),
    ):
        deal = await create_opportunity(
            name=key,
            customer_id=g.customers[customer],
            pipeline_id=pipeline.id,
            owner_id=g.users[owner],
            amount=amount,
            actor=ACTOR,
        )
        g.deals[key] = deal.id
    for key, customer, assignee in (
        ("task_a", "person_a", "sales_a"),
        ("task_support", "person_a", "support_a"),
        ("task_cross", "person_a", "sales_b"),
        ("task_b", "person_b", "sales_b"),
    ):
        task = await create_task(
            TaskInput(title=key, assignee_id=g.users[assignee], customer_id=g.customers[customer]),
            actor=ACTOR,
        )
        g.tasks[key] = task.id
    for key, customer, user in (
        ("call_a", "person_a", "sales_a"),
        ("call_b", "person_b", "sales_b"),
    ):
        row = await log_interaction(
            customer_id=g.customers[customer],
            kind="CALL",
            subject=key,
            body=f"notes of {key}",
            occurred_at=T0,
            user_id=g.users[user],
            actor=ACTOR,
        )
        g.interactions[key] = row.id
    for name in STAFF:
        g.tokens[name] = (await login(api, f"{name.replace('_', '.')}@rapport.vn", PASSWORD))[
            "accessToken"
        ]
    return g
