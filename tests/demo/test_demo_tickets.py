"""Demo tickets: a few hundred, reproducible, and consistent with the rules of the desk."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from domain.demo import seed_demo
from domain.demo.seed import ANCHOR
from domain.demo.tickets import SUPPORT_TEAM, expected_ticket_count, seed_tickets
from domain.persistence.db import close_database, open_database
from domain.persistence.models import Customer, Team, Ticket, TicketComment, User

SCALE = 0.02


async def _seeded(path: Path, seed: int) -> dict[str, int]:
    await open_database("sqlite://" + str(path))
    counts = await seed_demo(seed=seed, scale=SCALE)
    # The full-scale desk on top of the small customer base: 400 more tickets.
    counts |= {f"more_{k}": v for k, v in (await seed_tickets(seed=seed, scale=1.0)).items()}
    return counts


@pytest.fixture
async def seeded(tmp_path: Path) -> AsyncIterator[dict[str, int]]:
    try:
        yield await _seeded(tmp_path / "t.sqlite3", 7)
    finally:
        await close_database()


async def _digest() -> str:
    digest = hashlib.sha256()
    for model in (Ticket, TicketComment):
        rows = await model.all().order_by("id").values_list(*model._meta.db_fields)
        digest.update(repr(rows).encode())
    return digest.hexdigest()


async def test_same_seed_same_tickets(tmp_path: Path) -> None:
    digests = []
    for n, seed in enumerate((7, 7, 8)):
        try:
            await _seeded(tmp_path / f"{n}.sqlite3", seed)
            digests.append(await _digest())
        finally:
            await close_database()
    assert digests[0] == digests[1]
    assert digests[0] != digests[2]


async def test_counts_and_consistency(seeded: dict[str, int]) -> None:
    assert expected_ticket_count(1.0) == 400
    assert seeded["tickets"] == expected_ticket_count(SCALE) == 8
    assert seeded["more_tickets"] == 400
    tickets = await Ticket.all()
    assert len(tickets) == 408
    assert (
        await TicketComment.all().count()
        == seeded["ticket_comments"] + seeded["more_ticket_comments"]
    )
    team = await Team.get(name=SUPPORT_TEAM)
    agents = set(await User.filter(team_id=team.id, role="SUPPORT").values_list("id", flat=True))
    since = dict(await Customer.all().values_list("id", "created_at"))
    statuses = {t.status for t in tickets}
    assert statuses == {"NEW", "OPEN", "PENDING", "ON_HOLD", "SOLVED", "CLOSED"}
    assert {t.priority for t in tickets} == {"LOW", "NORMAL", "HIGH", "URGENT"}
    comments: dict[int, list[TicketComment]] = {}
    for comment in await TicketComment.all().order_by("id"):
        comments.setdefault(comment.ticket_id, []).append(comment)
    for ticket in tickets:
        assert since[ticket.customer_id] <= ticket.created_at <= ANCHOR
        assert ticket.team_id == team.id
        assert ticket.assignee_id is None or ticket.assignee_id in agents
        if ticket.status in ("SOLVED", "CLOSED"):
            assert ticket.solved_at is not None
            assert ticket.created_at < ticket.solved_at <= ANCHOR
        else:
            assert (ticket.solved_at, ticket.closed_at) == (None, None)
        if ticket.status == "CLOSED":
            assert ticket.closed_at == ticket.solved_at + timedelta(days=4)  # type: ignore[operator]
        conversation = comments[ticket.id]
        assert conversation[0].author_customer_id == ticket.customer_id
        assert [c.created_at for c in conversation] == sorted(c.created_at for c in conversation)
        assert ticket.updated_at >= conversation[-1].created_at
        if ticket.status != "NEW":
            assert ticket.assignee_id is not None
        internal = [c for c in conversation if not c.public]
        assert all(c.author_user_id == ticket.assignee_id for c in internal)

    # urgent tickets are solved faster than low ones, as the generator intends
    def median_hours(priority: str) -> float:
        spans = sorted(
            (t.solved_at - t.created_at).total_seconds() / 3600
            for t in tickets
            if t.priority == priority and t.solved_at is not None
        )
        return spans[len(spans) // 2]

    assert median_hours("URGENT") < median_hours("NORMAL") < median_hours("LOW")
