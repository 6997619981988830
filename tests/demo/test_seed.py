"""The demo data set: scaled counts, reproducibility and consistency of every derived column."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.contact import normalize_phone
from domain.customers.commands import LIFECYCLE_STAGES
from domain.customers.normalize import refresh_derived
from domain.demo import expected_counts, seed_demo
from domain.demo.seed import ACTOR, ANCHOR, search_text_for
from domain.demo.vietnam import TAG_VOCABULARY
from domain.persistence.db import close_database, open_database
from domain.persistence.models import (
    Customer,
    Interaction,
    Opportunity,
    Relationship,
    Stage,
    StageChange,
    Task,
    Team,
    User,
)
from domain.text import decode_tags, encode_tags, fold

SCALE = 0.02
DERIVED = (
    "display_name",
    "display_name_fold",
    "first_name_fold",
    "last_name_fold",
    "job_title_fold",
    "legal_name_fold",
    "industry_fold",
    "city_fold",
    "search_text",
)


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[dict[str, int]]:
    await open_database("sqlite://" + str(tmp_path / "t.sqlite3"))
    try:
        yield await seed_demo(seed=7, scale=SCALE)
    finally:
        await close_database()


async def _digest(path: Path, seed: int) -> str:
    await open_database("sqlite://" + str(path))
    try:
        await seed_demo(seed=seed, scale=SCALE)
        digest = hashlib.sha256()
        for model in (Customer, Interaction, Opportunity, StageChange, Task, Relationship, User):
            # Password hashes are salted: the same password hashes differently each time.
            columns = [c for c in model._meta.db_fields if c != "password_hash"]
            rows = await model.all().order_by("id").values_list(*columns)
            digest.update(repr(rows).encode())
        return digest.hexdigest()
    finally:
        await close_database()


def test_expected_counts_scale_linearly() -> None:
    full = expected_counts(1.0)
    assert full["people"] == 20_000
    assert full["organizations"] == 3_000
    assert full["interactions"] == 100_000
    assert full["opportunities"] == 8_000
    assert full["tasks"] == 5_000
    assert full["works_at"] == 12_000
    assert (full["users"], full["teams"]) == (40, 6)
    tiny = expected_counts(0.00001)
    assert (tiny["users"], tiny["teams"]) == (40, 6)
    assert min(tiny[k] for k in ("people", "organizations", "opportunities", "tasks")) == 1


async def test_counts_match_scaled_numbers(seeded: dict[str, int]) -> None:
    expected = expected_counts(SCALE)
    assert (expected["people"], expected["organizations"]) == (400, 60)
    assert (expected["interactions"], expected["opportunities"], expected["tasks"]) == (
        2000,
        160,
        100,
    )
    for key, value in expected.items():
        assert seeded[key] == value, key
    assert await Customer.filter(kind="PERSON").count() == expected["people"]
    assert await Customer.filter(kind="ORGANIZATION").count() == expected["organizations"]
    assert await User.all().count() == 40 + 1  # the staff, plus the MARKETING demo log-in
    assert await Team.all().count() == 6
    assert await Interaction.all().count() == expected["interactions"]
    assert await Opportunity.all().count() == expected["opportunities"]
    assert await Task.all().count() == expected["tasks"]
    assert await StageChange.all().count() == seeded["stage_changes"]
    kinds = Counter(await Relationship.all().values_list("kind", flat=True))
    assert kinds == {
        "WORKS_AT": expected["works_at"],
        "SUBSIDIARY_OF": expected["subsidiary_of"],
        "REFERRED_BY": expected["referred_by"],
        "FAMILY_OF": expected["family_of"],
    }
    employed = await Customer.filter(kind="PERSON", organization_id__not_isnull=True).count()
    assert employed == round(0.6 * expected["people"])


async def test_same_seed_same_rows_other_seed_differs(tmp_path: Path) -> None:
    first = await _digest(tmp_path / "a.sqlite3", 42)
    again = await _digest(tmp_path / "b.sqlite3", 42)
    other = await _digest(tmp_path / "c.sqlite3", 43)
    assert first == again
    assert first != other


async def test_customer_columns_are_consistent(seeded: dict[str, int]) -> None:
    sales = set(await User.filter(role="SALES").values_list("id", flat=True))
    customers = await Customer.all()
    by_id = {c.id: c for c in customers}
    for c in customers:
        assert fold(c.display_name) == c.display_name_fold
        assert fold(c.first_name) == c.first_name_fold
        assert fold(c.last_name) == c.last_name_fold
        assert fold(c.legal_name) == c.legal_name_fold
        assert fold(c.job_title) == c.job_title_fold
        assert fold(c.industry) == c.industry_fold
        assert c.city_fold == (fold(c.address["city"]) if c.address else None)
        addresses = [e["address"] for e in c.emails]
        numbers = [p["number"] for p in c.phones]
        assert c.primary_email == (addresses[0] if addresses else None)
        assert all(a == a.lower() for a in addresses)
        assert c.primary_phone == (numbers[0] if numbers else None)
        assert all(normalize_phone(n) == n for n in numbers)
        assert c.search_text == search_text_for(
            c.display_name, addresses, numbers, c.domain, c.legal_name
        )
        assert c.lifecycle_stage in LIFECYCLE_STAGES
        stored = {f: getattr(c, f) for f in DERIVED}
        refresh_derived(c)  # the domain's own derivation must not change a thing
        assert {f: getattr(c, f) for f in DERIVED} == stored
        tags = decode_tags(c.tags)
        assert set(tags) <= set(TAG_VOCABULARY)
        assert encode_tags(tags) == c.tags
        assert c.owner_id in sales
        assert (c.created_by, c.updated_by) == (ACTOR, ACTOR)
        assert c.updated_at == c.created_at <= ANCHOR
        if c.kind == "PERSON":
            assert c.display_name == f"{c.last_name} {c.first_name}"
            assert c.domain is None
        else:
            assert c.domain
            assert c.legal_name
            assert c.organization_id is None
        if c.parent_id is not None:
            assert by_id[c.parent_id].kind == "ORGANIZATION"
            assert by_id[c.parent_id].parent_id is None

    edges = set(await Relationship.all().values_list("kind", "from_customer_id", "to_customer_id"))
    for c in customers:
        if c.organization_id is not None:
            assert ("WORKS_AT", c.id, c.organization_id) in edges
            assert by_id[c.organization_id].kind == "ORGANIZATION"
        if c.parent_id is not None:
            assert ("SUBSIDIARY_OF", c.id, c.parent_id) in edges
    for kind, a, b in edges:
        if kind in ("REFERRED_BY", "FAMILY_OF"):
            assert by_id[a].kind == by_id[b].kind == "PERSON"
            assert a != b


async def test_opportunities_and_history_are_consistent(seeded: dict[str, int]) -> None:
    stages = {s.id: s for s in await Stage.all()}
    lifecycle = dict(await Customer.all().values_list("id", "lifecycle_stage"))
    history: dict[int, list[StageChange]] = {}
    for change in await StageChange.all().order_by("id"):
        history.setdefault(change.opportunity_id, []).append(change)
    statuses: Counter[str] = Counter()
    for opp in await Opportunity.all():
        statuses[opp.status] += 1
        assert stages[opp.stage_id].pipeline_id == opp.pipeline_id
        assert fold(opp.name) == opp.name_fold
        assert opp.currency == "VND"
        assert 5_000_000 <= opp.amount <= 5_000_000_000
        if opp.status == "WON":
            assert lifecycle[opp.customer_id] == "CUSTOMER"
        changes = history[opp.id]
        assert changes[0].from_stage_id is None
        assert changes[0].changed_at == opp.created_at
        assert changes[-1].to_stage_id == opp.stage_id
        assert opp.updated_at == changes[-1].changed_at
        positions = [stages[ch.to_stage_id].position for ch in changes if ch.status == "OPEN"]
        assert positions == list(range(len(positions)))
        for before, after in itertools.pairwise(changes):
            assert after.from_stage_id == before.to_stage_id
            assert before.changed_at <= after.changed_at
        for ch in changes:
            assert ch.customer_id == opp.customer_id
            assert stages[ch.to_stage_id].pipeline_id == opp.pipeline_id
        if opp.status == "OPEN":
            assert opp.closed_at is None
            assert all(ch.status == "OPEN" for ch in changes)
        else:
            assert changes[-1].status == opp.status
            assert changes[-1].changed_at == opp.closed_at
        if opp.status == "WON":
            assert stages[opp.stage_id].position == max(
                s.position for s in stages.values() if s.pipeline_id == opp.pipeline_id
            )
    assert set(statuses) == {"OPEN", "WON", "LOST"}
    assert min(statuses.values()) >= seeded["opportunities"] // 10


async def test_activities_staff_and_teams(seeded: dict[str, int]) -> None:
    horizon = ANCHOR - timedelta(days=731)
    customers_created = dict(await Customer.all().values_list("id", "created_at"))
    per_customer: Counter[int] = Counter()
    for row in await Interaction.all().values("customer_id", "occurred_at", "subject"):
        assert horizon <= row["occurred_at"] <= ANCHOR
        assert row["occurred_at"] >= customers_created[row["customer_id"]]
        per_customer[row["customer_id"]] += 1
    counts = sorted(per_customer.values(), reverse=True)
    assert counts[0] >= 5 * counts[len(counts) // 2]  # skewed, not uniform
    tasks = await Task.all()
    assert {t.status for t in tasks} == {"OPEN", "DONE"}
    for t in tasks:
        assert fold(t.title) == t.title_fold
        assert (t.completed_at is not None) == (t.status == "DONE")

    users = {u.id: u for u in await User.all().prefetch_related("teams")}
    assert Counter(u.role for u in users.values()).keys() == {
        "SALES",
        "SUPPORT",
        "MANAGER",
        "ADMIN",
        "ANALYST",
        "MARKETING",  # the demo log-in (domain/demo/accounts.py)
    }
    assert len({u.email for u in users.values()}) == 40 + 1
    memberships: dict[int, set[int]] = {}
    for user in users.values():
        for team in user.teams:
            memberships.setdefault(team.id, set()).add(user.id)
    for team in await Team.all():
        members = memberships[team.id]
        assert team.lead_id in members
        for member_id in members:
            member = users[member_id]
            if member.team_id == team.id and member.id != team.lead_id:
                assert member.manager_id == team.lead_id
    for u in users.values():
        assert u.email.endswith("@rapport.demo")
        assert u.name_fold == fold(u.name)


async def test_progress_is_reported_per_batch(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    await open_database("sqlite://" + str(tmp_path / "p.sqlite3"))
    try:
        await seed_demo(scale=0.01, progress=lambda s, d, t: calls.append((s, d, t)))
    finally:
        await close_database()
    last: dict[str, tuple[int, int]] = {}
    for stage, done, total in calls:
        assert 0 < done <= total
        assert done > last.get(stage, (0, 0))[0]
        last[stage] = (done, total)
    assert {"customers", "people", "organizations", "interactions"} & set(last)
    assert all(done == total for done, total in last.values())


async def test_refuses_a_database_with_customers(seeded: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="already"):
        await seed_demo(scale=SCALE)
