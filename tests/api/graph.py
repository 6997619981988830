"""A small, known customer graph built through the domain services, for API tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from domain.activities.interactions import log_interaction
from domain.customers import services
from domain.customers.commands import OrganizationInput, PersonInput
from domain.sales.opportunities import create_opportunity, win_opportunity
from domain.sales.pipelines import ensure_default_pipelines
from domain.staff.teams import add_member, create_team
from domain.staff.users import create_user

ACTOR = "user:test"
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


@dataclass
class Graph:
    users: list[int] = field(default_factory=list)
    teams: list[int] = field(default_factory=list)
    orgs: list[int] = field(default_factory=list)
    people: list[int] = field(default_factory=list)
    open_deal_people: set[int] = field(default_factory=set)
    interactions: dict[int, list[dt.datetime]] = field(default_factory=dict)


async def build_graph(people: int = 12, interactions_per_person: int = 7) -> Graph:
    """Two orgs (Retail and Software), ``people`` people alternating between them; every third
    person has an open deal, every fourth a won one; each person has timed interactions."""
    g = Graph()
    pipeline = await ensure_default_pipelines(actor=ACTOR)
    team = await create_team(name="Kinh doanh Hà Nội", actor=ACTOR)
    g.teams.append(team.id)
    for name, email in (("Trần Thị Hoa", "hoa@rapport.vn"), ("Lê Văn Nam", "nam@rapport.vn")):
        user = await create_user(name=name, email=email, role="SALES", actor=ACTOR)
        await add_member(team.id, user.id, actor=ACTOR)
        g.users.append(user.id)
    for org_name, domain, industry in (
        ("Công ty Bán Lẻ Sao Việt", "saoviet.vn", "Retail"),
        ("Phần mềm Minh Phát", "minhphat.com.vn", "Software"),
    ):
        org = await services.create_organization(
            OrganizationInput(
                display_name=org_name, domain=domain, industry=industry, owner_id=g.users[0]
            ),
            actor=ACTOR,
        )
        g.orgs.append(org.id)
    for i in range(people):
        person = await services.create_person(
            PersonInput(
                first_name=f"An {i}",
                last_name="Nguyễn",
                emails=[f"an{i}@khachhang.vn"],
                phones=[f"09{i:08d}"],
                organization_id=g.orgs[i % 2],
                owner_id=g.users[i % 2],
                tags=["vip"] if i % 3 == 0 else [],
            ),
            actor=ACTOR,
        )
        g.people.append(person.id)
        times = []
        for j in range(interactions_per_person):
            when = T0 + dt.timedelta(days=j, hours=i)
            await log_interaction(
                customer_id=person.id,
                kind="CALL",
                subject=f"Gọi lần {j}",
                occurred_at=when,
                user_id=g.users[i % 2],
                actor=ACTOR,
            )
            times.append(when)
        g.interactions[person.id] = times
        if i % 3 == 0:
            await create_opportunity(
                name=f"Hợp đồng {i}",
                customer_id=person.id,
                pipeline_id=pipeline.id,
                amount=1_000_000 * (i + 1),
                owner_id=g.users[i % 2],
                actor=ACTOR,
            )
            g.open_deal_people.add(person.id)
        if i % 4 == 0:
            won = await create_opportunity(
                name=f"Đơn hàng {i}",
                customer_id=person.id,
                pipeline_id=pipeline.id,
                amount=500_000,
                actor=ACTOR,
            )
            await win_opportunity(won.id, actor=ACTOR)
    return g
