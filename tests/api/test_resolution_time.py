"""`resolutionTime` against a random dataset whose figures the test works out on its own:
nearest-rank interpolation written out here, not the statistics module the code uses."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from typing import Any

import httpx
import pytest

from domain.customers import services
from domain.customers.commands import PersonInput
from domain.persistence import models as m
from domain.staff.teams import create_team
from domain.staff.users import create_user
from domain.tickets.lifecycle import create_ticket
from gql.ids import encode_id
from tests.helpers import gql

T0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
FROM = T0 + dt.timedelta(days=3)
TO = T0 + dt.timedelta(days=20)
PRIORITIES = ("LOW", "NORMAL", "HIGH", "URGENT")

QUERY = """query($from: DateTime, $to: DateTime, $groupBy: [ResolutionTimeGroupBy!]) {
  resolutionTime(from: $from, to: $to, groupBy: $groupBy) {
    total { count meanSeconds medianSeconds p90Seconds }
    groups { key { priority team { id } agent { id } }
             count meanSeconds medianSeconds p90Seconds }
  }
}"""


def percentile(values: list[float], share: float) -> float:
    """Linear interpolation between closest ranks: rank (n - 1) * share, 0-based."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * share
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def expected(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "meanSeconds": pytest.approx(sum(values) / len(values)),
        "medianSeconds": pytest.approx(percentile(values, 0.5)),
        "p90Seconds": pytest.approx(percentile(values, 0.9)),
    }


async def _dataset() -> list[dict[str, Any]]:
    """60 tickets: random priority, team (or none), agent, creation and resolution times;
    a quarter unsolved, one soft-deleted. Returns what each counts as, for the test's sums."""
    rng = random.Random(20261122)
    customer = await services.create_person(PersonInput(first_name="Khách"), actor="t")
    teams = [(await create_team(name=f"Đội {i}", actor="t")).id for i in range(2)]
    agents = [
        (await create_user(name=f"Agent {i}", email=f"a{i}@rapport.vn", actor="t")).id
        for i in range(3)
    ]
    facts = []
    for n in range(60):
        priority = rng.choice(PRIORITIES)
        team = rng.choice([*teams, None])
        agent = rng.choice(agents)
        ticket = await create_ticket(
            subject=f"T{n}",
            customer_id=customer.id,
            priority=priority,
            team_id=team,
            assignee_id=agent,
            actor="t",
        )
        created = T0 + dt.timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        solved = (
            None
            if rng.random() < 0.25
            else created + dt.timedelta(seconds=rng.randrange(600, 5 * 86400))
        )
        deleted = n == 7
        await m.Ticket.filter(id=ticket.id).update(
            created_at=created,
            solved_at=solved,
            status="SOLVED" if solved else "OPEN",
            deleted_at=T0 if deleted else None,
        )
        facts.append(
            {
                "priority": priority,
                "team": team,
                "agent": agent,
                "seconds": None if solved is None else (solved - created).total_seconds(),
                "counted": solved is not None and not deleted and FROM <= solved < TO,
            }
        )
    return facts


async def test_resolution_time_overall_and_grouped(api: httpx.AsyncClient) -> None:
    facts = await _dataset()
    counted = [f for f in facts if f["counted"]]
    assert len(counted) >= 20  # the window keeps a good share of the dataset

    window = {"from": FROM.isoformat(), "to": TO.isoformat()}
    body = await gql(api, QUERY, {**window, "groupBy": ["PRIORITY", "TEAM"]})
    stats = body["data"]["resolutionTime"]
    assert stats["total"] == expected([f["seconds"] for f in counted])
    groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for f in counted:
        team = encode_id("Team", f["team"]) if f["team"] else None
        groups[(f["priority"], team)].append(f["seconds"])
    got = {
        (g["key"]["priority"], g["key"]["team"] and g["key"]["team"]["id"]): g
        for g in stats["groups"]
    }
    assert set(got) == set(groups)
    for key, values in groups.items():
        group = got[key]
        assert group["key"]["agent"] is None
        assert {k: v for k, v in group.items() if k != "key"} == expected(values)

    by_agent = (await gql(api, QUERY, {**window, "groupBy": ["AGENT"]}))["data"]["resolutionTime"]
    per_agent: dict[str, list[float]] = defaultdict(list)
    for f in counted:
        per_agent[encode_id("User", f["agent"])].append(f["seconds"])
    assert {g["key"]["agent"]["id"]: g["count"] for g in by_agent["groups"]} == {
        k: len(v) for k, v in per_agent.items()
    }
    for g in by_agent["groups"]:
        assert g["p90Seconds"] == expected(per_agent[g["key"]["agent"]["id"]])["p90Seconds"]

    everything = (await gql(api, QUERY))["data"]["resolutionTime"]
    solved = [f["seconds"] for i, f in enumerate(facts) if f["seconds"] is not None and i != 7]
    assert everything["total"] == expected(solved)
    assert everything["groups"] == []


async def test_resolution_time_empty_window_and_bad_range(api: httpx.AsyncClient) -> None:
    empty = await gql(api, QUERY, {"from": T0.isoformat(), "to": FROM.isoformat()})
    assert empty["data"]["resolutionTime"]["total"] == {
        "count": 0,
        "meanSeconds": None,
        "medianSeconds": None,
        "p90Seconds": None,
    }
    bad = await gql(
        api, QUERY, {"from": TO.isoformat(), "to": FROM.isoformat()}, expect_errors=True
    )
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_RANGE"
