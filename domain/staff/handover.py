"""Handing over a departing staff member's work, then deactivating them, in one transaction.

What follows its owner is listed in :data:`REASSIGNMENTS`, one :class:`Reassignment` per kind
of record (customers, open deals, open tasks, unsolved tickets). Closed deals, finished tasks
and solved tickets keep their historical owner: who won a deal is history, not work.

Workflow runs name their recipients symbolically (``owner``, ``team_lead``...) and resolve them
from the subject each time they act (``workflows.runtime.subjects.load_subject``), so a run
waiting on a reassigned customer reaches the new owner at its next step without being touched.
What a run has already decided is moved here: its e-mails still waiting in the outbox for the
departing user go to the subject's new owner.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from tortoise.models import Model
from tortoise.transactions import in_transaction

from domain.errors import NotFound, ValidationFailed
from domain.identity.sessions import revoke_user_sessions
from domain.persistence.models import (
    Customer,
    EmailMessage,
    Opportunity,
    Task,
    Team,
    Ticket,
    User,
    WorkflowRun,
)
from domain.recording import Record, record, record_many, utcnow
from domain.tickets.rules import OPEN_STATUSES

ROUND_ROBIN_IN_TEAM = "ROUND_ROBIN_IN_TEAM"
STRATEGIES = (ROUND_ROBIN_IN_TEAM,)
#: Rows updated per statement (keeps ``IN (...)`` lists well under every backend's limit).
CHUNK = 500


@dataclass(frozen=True)
class Reassignment:
    """One kind of record that follows its owner.

    ``open`` narrows the rows still in play (an open deal, an open task); ``follows`` names the
    column pointing at a customer whose new owner the record should follow, so a deal goes to
    whoever now owns its customer, not to a random teammate.
    """

    target_type: str
    model: type[Model]
    column: str
    event_type: str
    open: dict[str, Any] = field(default_factory=dict)
    follows: str | None = None


REASSIGNMENTS: tuple[Reassignment, ...] = (
    # Soft-deleted customers too: a restored customer must not come back owned by nobody active.
    Reassignment("Customer", Customer, "owner_id", "customer.updated"),
    Reassignment(
        "Opportunity",
        Opportunity,
        "owner_id",
        "opportunity.reassigned",
        open={"status": "OPEN", "deleted_at": None},
        follows="customer_id",
    ),
    Reassignment(
        "Task",
        Task,
        "assignee_id",
        "task.updated",
        open={"status": "OPEN", "deleted_at": None},
        follows="customer_id",
    ),
    # A ticket stays with its team and goes to a teammate, not to the customer's (sales) owner;
    # solved ones keep who solved them (the resolution-time report groups by agent).
    Reassignment(
        "Ticket",
        Ticket,
        "assignee_id",
        "ticket.updated",
        open={"status__in": list(OPEN_STATUSES), "deleted_at": None},
    ),
)


@dataclass
class HandoverResult:
    user: User
    #: Records reassigned, by target type (every type of :data:`REASSIGNMENTS` present).
    reassigned: dict[str, int]
    #: Pending workflow e-mails redirected from the departing user to the new owner.
    redirected_emails: int


async def _user(user_id: int) -> User:
    user = await User.filter(id=user_id, deleted_at=None).first()
    if user is None:
        raise NotFound("User", user_id)
    return user


async def _chosen_successor(user: User, successor_id: int) -> User:
    if successor_id == user.id:
        raise ValidationFailed("reassignTo", "a user cannot hand over to themselves", "SELF")
    successor = await User.filter(id=successor_id, deleted_at=None).first()
    if successor is None:
        raise ValidationFailed("reassignTo", f"user {successor_id} not found", "NOT_FOUND")
    if not successor.active:
        raise ValidationFailed("reassignTo", f"user {successor_id} is not active", "INACTIVE")
    return successor


async def _teammates(user: User) -> list[User]:
    """Active members of any of the user's teams (primary team included), by id."""
    team_ids = {team.id for team in await Team.filter(members__id=user.id)}
    if user.team_id is not None:
        team_ids.add(user.team_id)
    if not team_ids:
        return []
    members = (
        await User.filter(active=True, deleted_at=None)
        .filter(id__not=user.id)
        .filter(teams__id__in=list(team_ids))
        .distinct()
        .order_by("id")
    )
    primary = await User.filter(
        team_id__in=list(team_ids), active=True, deleted_at=None, id__not=user.id
    )
    by_id = {u.id: u for u in [*members, *primary]}
    return [by_id[i] for i in sorted(by_id)]


class _Picker:
    """Chooses each record's new owner: its customer's new owner when the customer was handed
    over too, else the next candidate in turn (one turn per kind of record, so that each kind
    is spread evenly). Remembers every choice, by target type and id."""

    def __init__(self, candidates: Sequence[User]) -> None:
        self.candidates = [u.id for u in candidates]
        self.chosen: dict[tuple[str, int], int] = {}
        self.spare = self.turns()

    def turns(self) -> Iterator[int]:
        return itertools.cycle(self.candidates)

    def pick(self, turns: Iterator[int], customer_id: int | None) -> int:
        return self.chosen.get(("Customer", customer_id or 0)) or next(turns)


async def _reassign(
    step: Reassignment, user: User, picker: _Picker, actor: str, now: dt.datetime
) -> int:
    columns = ["id"] + ([step.follows] if step.follows else [])
    rows = (
        await step.model.filter(**{step.column: user.id}, **step.open)
        .order_by("id")
        .values(*columns)
    )
    turns = picker.turns()
    targets: dict[int, list[int]] = defaultdict(list)
    records: list[Record] = []
    for row in rows:
        new_owner = picker.pick(turns, row.get(step.follows) if step.follows else None)
        targets[new_owner].append(row["id"])
        picker.chosen[(step.target_type, row["id"])] = new_owner
        changes = {step.column: [user.id, new_owner]}
        records.append(
            Record(
                actor=actor,
                action=f"{step.target_type.lower()}.reassign",
                target_type=step.target_type,
                target_id=row["id"],
                changes=changes,
                event_type=step.event_type,
                payload={"changes": changes, "reason": "handover"},
            )
        )
    for new_owner, ids in targets.items():
        for start in range(0, len(ids), CHUNK):
            await step.model.filter(id__in=ids[start : start + CHUNK]).update(
                **{step.column: new_owner, "updated_by": actor, "updated_at": now}
            )
    await record_many(records)
    return len(rows)


async def _redirect_pending_emails(user: User, picker: _Picker, actor: str) -> int:
    """Workflow e-mails queued for the departing user go to the new owner of the run's subject
    (or, when the subject was not theirs, e.g. a team lead's reminder, to the next candidate)."""
    messages = await EmailMessage.filter(
        to_address=user.email, status="PENDING", run_id__isnull=False
    ).order_by("id")
    if not messages:
        return 0
    runs = await WorkflowRun.filter(id__in=list({msg.run_id for msg in messages})).values_list(
        "id", "subject_type", "subject_id"
    )
    subjects = {run_id: (kind, subject_id) for run_id, kind, subject_id in runs}
    new_owner_ids: dict[int, int] = {}
    for msg in messages:
        subject_type, subject_id = subjects.get(msg.run_id or 0, ("", 0))
        subject_key = (subject_type.title(), subject_id)
        new_owner_ids[msg.id] = picker.chosen.get(subject_key) or next(picker.spare)
    addresses = dict(
        await User.filter(id__in=list(set(new_owner_ids.values()))).values_list("id", "email")
    )
    records = []
    for msg in messages:
        address = addresses[new_owner_ids[msg.id]]
        await EmailMessage.filter(id=msg.id, status="PENDING").update(to_address=address)
        changes = {"to_address": [msg.to_address, address]}
        records.append(Record(actor, "email.redirect", "EmailMessage", msg.id, changes))
    await record_many(records)
    return len(records)


async def hand_over_and_deactivate(
    user_id: int,
    *,
    reassign_to: int | None = None,
    strategy: str | None = None,
    actor: str,
) -> HandoverResult:
    """Reassign everything ``user_id`` owns to ``reassign_to`` (or spread it with ``strategy``
    over the active members of their teams), redirect their pending workflow e-mails, revoke
    their sessions and deactivate them: all or nothing, one audit entry per changed record.

    Running it again for an inactive user hands over whatever still points at them.
    """
    if (reassign_to is None) == (strategy is None):
        raise ValidationFailed("reassignTo", "give either reassignTo or strategy", "ONE_OF")
    user = await _user(user_id)
    if reassign_to is not None:
        candidates = [await _chosen_successor(user, reassign_to)]
    elif strategy not in STRATEGIES:
        raise ValidationFailed("strategy", f"unknown strategy {strategy!r}", "INVALID_KIND")
    else:
        candidates = await _teammates(user)
        if not candidates:
            raise ValidationFailed(
                "strategy",
                f"user {user.id} has no active teammate to hand over to",
                "NO_CANDIDATES",
            )
    picker = _Picker(candidates)
    now = utcnow()
    async with in_transaction():
        reassigned = {
            step.target_type: await _reassign(step, user, picker, actor, now)
            for step in REASSIGNMENTS
        }
        redirected = await _redirect_pending_emails(user, picker, actor)
        # Their access and refresh tokens stop working at once (authentication also refuses
        # inactive users). API keys are the company's integrations, not the user's: kept.
        revoked = await revoke_user_sessions(user.id, reason="deactivated")
        if user.active:
            await User.filter(id=user.id).update(active=False, updated_by=actor, updated_at=now)
            await record(
                actor,
                "user.deactivate",
                "User",
                user.id,
                {"active": [True, False], "sessions_revoked": [None, revoked]},
                "user.deactivated",
                {"reassigned": reassigned, "strategy": strategy, "reassignTo": reassign_to},
            )
            user.active = False
        elif revoked:
            changes = {"sessions_revoked": [None, revoked]}
            await record(actor, "user.revoke_sessions", "User", user.id, changes)
    return HandoverResult(user=user, reassigned=reassigned, redirected_emails=redirected)
