"""Workflows as the API shows them: deployed versions, runs with their history, and counts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from tortoise.functions import Count

from domain.persistence import models as m
from gql.context import Context
from gql.dataloaders import all_children, load
from gql.fields import computed
from gql.types.customers import Organization, Person
from gql.types.node import Node
from gql.types.sales import Opportunity
from gql.types.tickets import Ticket

Info = strawberry.Info[Context, None]


@strawberry.enum
class WorkflowStatus(Enum):
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"


@strawberry.enum
class WorkflowRunState(Enum):
    ACTIVE = "ACTIVE"
    WAITING = "WAITING"
    CONVERTED = "CONVERTED"
    EXITED = "EXITED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@strawberry.type(description="How many runs a workflow (or one split arm of it) has, by state.")
class WorkflowRunCounts:
    enrolled: int = strawberry.field(description="Every run ever started.")
    active: int = strawberry.field(description="Live runs: ACTIVE or WAITING.")
    converted: int
    exited: int
    completed: int
    failed: int


@strawberry.type(description="The run counts of one arm of a split.")
class WorkflowArmCounts:
    arm: str
    counts: WorkflowRunCounts


def _counts(by_state: dict[str, int]) -> WorkflowRunCounts:
    return WorkflowRunCounts(
        enrolled=sum(by_state.values()),
        active=by_state.get("ACTIVE", 0) + by_state.get("WAITING", 0),
        converted=by_state.get("CONVERTED", 0),
        exited=by_state.get("EXITED", 0),
        completed=by_state.get("COMPLETED", 0),
        failed=by_state.get("FAILED", 0),
    )


def _run_counts(context: Context) -> Any:
    """Runs per (workflow, split arm, state) for many workflows: one grouped statement."""

    async def batch(keys: Sequence[int]) -> list[dict[str | None, dict[str, int]]]:
        rows = (
            await m.WorkflowRun.filter(workflow_id__in=list(keys))
            .annotate(n=Count("id"))
            .group_by("workflow_id", "split_arm", "state")
            .values_list("workflow_id", "split_arm", "state", "n")
        )
        found: dict[int, dict[str | None, dict[str, int]]] = {k: {} for k in keys}
        for workflow_id, arm, state, n in rows:
            found[workflow_id].setdefault(arm, {})[state] = int(n)
        return [found[k] for k in keys]

    return context.loaders.get(("workflow_run_counts",), batch)


def _row_loader(context: Context, model: type[Any]) -> Any:
    async def batch(keys: Sequence[int]) -> list[Any]:
        found = {row.id: row for row in await model.filter(id__in=list(keys))}
        return [found.get(k) for k in keys]

    return context.loaders.get(("workflow_rows", model.__name__), batch)


@strawberry.type(description="One deployed content of a workflow.")
class WorkflowVersion(Node):
    number: int
    content_hash: str = strawberry.field(description="sha256 of the source and its bundle files.")
    source: str = strawberry.field(description="The workflow's YAML as deployed.")
    created_at: dt.datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.WorkflowVersion)


@strawberry.type(description="An automation written in YAML, by its stable key.")
class Workflow(Node):
    key: str
    name: str
    subject: str = strawberry.field(description="customer | opportunity | ticket")
    status: WorkflowStatus
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.Workflow)

    @strawberry.field(description="The version new runs start on.")
    async def current_version(
        self, root: strawberry.Parent[m.Workflow], info: Info
    ) -> WorkflowVersion | None:
        if root.current_version_id is None:
            return None
        return await _row_loader(info.context, m.WorkflowVersion).load(root.current_version_id)

    @strawberry.field(description="Every version, newest first.")
    async def versions(
        self, root: strawberry.Parent[m.Workflow], info: Info
    ) -> list[WorkflowVersion]:
        loader = all_children(info.context, "WorkflowVersion", "workflow_id", ("-number",))
        return await loader.load(root.id)

    @strawberry.field(description="Its runs, by state (all versions).")
    async def counts(self, root: strawberry.Parent[m.Workflow], info: Info) -> WorkflowRunCounts:
        by_arm: dict[str | None, dict[str, int]] = await _run_counts(info.context).load(root.id)
        total: dict[str, int] = {}
        for by_state in by_arm.values():
            for state, n in by_state.items():
                total[state] = total.get(state, 0) + n
        return _counts(total)

    @strawberry.field(description="Run counts per split arm (runs that reached a split).")
    async def arm_counts(
        self, root: strawberry.Parent[m.Workflow], info: Info
    ) -> list[WorkflowArmCounts]:
        by_arm: dict[str | None, dict[str, int]] = await _run_counts(info.context).load(root.id)
        return [
            WorkflowArmCounts(arm=arm, counts=_counts(by_state))
            for arm, by_state in sorted((a, s) for a, s in by_arm.items() if a is not None)
        ]


@strawberry.type(description="One line of a run's history.")
class WorkflowRunStep:
    step_id: str
    kind: str
    outcome: str = strawberry.field(
        description="DONE | SKIPPED | SUPPRESSED | WAITING | TIMED_OUT | MATCHED | FAILED"
    )
    detail: JSON
    at: dt.datetime


@strawberry.type(description="The durable timer a waiting run will wake up on.")
class WorkflowTimer:
    key: str
    purpose: str = strawberry.field(description="wait | timeout | window | retry")
    due_at: dt.datetime
    status: str = strawberry.field(description="PENDING | CLAIMED")


WorkflowSubject = Annotated[
    Person | Organization | Opportunity | Ticket,
    strawberry.union("WorkflowSubject", description="The record a run is about."),
]


@strawberry.type(description="One subject's journey through one version of a workflow.")
class WorkflowRun(Node):
    state: WorkflowRunState
    subject_type: str
    split_arm: str | None
    started_at: dt.datetime
    ended_at: dt.datetime | None

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, m.WorkflowRun)

    ended_reason: str | None = computed(
        lambda root: (root.state_json or {}).get("ended_reason"),
        description="Why the run ended (goal met, exit_when, cancelled, a failed step...).",
    )

    @strawberry.field
    async def workflow(self, root: strawberry.Parent[m.WorkflowRun], info: Info) -> Workflow:
        return await _row_loader(info.context, m.Workflow).load(root.workflow_id)

    @strawberry.field(description="The version the run is pinned to.")
    async def version(self, root: strawberry.Parent[m.WorkflowRun], info: Info) -> WorkflowVersion:
        return await _row_loader(info.context, m.WorkflowVersion).load(root.version_id)

    @strawberry.field(description="The subject record; null once it is deleted.")
    async def subject(
        self, root: strawberry.Parent[m.WorkflowRun], info: Info
    ) -> WorkflowSubject | None:
        if root.subject_type == "customer":
            return await load(info.context, "Customer", root.subject_id)
        if root.subject_type == "opportunity":
            return await load(info.context, "Opportunity", root.subject_id)
        if root.subject_type == "ticket":
            return await load(info.context, "Ticket", root.subject_id)
        return None

    @strawberry.field(description="The run's history, oldest first.")
    async def steps(
        self, root: strawberry.Parent[m.WorkflowRun], info: Info
    ) -> list[WorkflowRunStep]:
        loader = all_children(info.context, "WorkflowRunStep", "run_id", ("id",))
        return await loader.load(root.id)

    @strawberry.field(description="The timer that will wake the run, if it has one.")
    async def pending_timer(
        self, root: strawberry.Parent[m.WorkflowRun], info: Info
    ) -> WorkflowTimer | None:
        async def batch(keys: Sequence[int]) -> list[Any]:
            found: dict[int, Any] = {}
            rows = await m.Timer.filter(
                run_id__in=list(keys), status__in=("PENDING", "CLAIMED")
            ).order_by("due_at", "id")
            for row in rows:
                if row.run_id is not None:
                    found.setdefault(row.run_id, row)
            return [found.get(k) for k in keys]

        return await info.context.loaders.get(("workflow_pending_timer",), batch).load(root.id)


WORKFLOW_TYPES = (Workflow, WorkflowVersion, WorkflowRun)


@strawberry.type(
    description=(
        "A segment a deployed workflow's `segment:` trigger enrolls on, with how many customers "
        "are in it now."
    )
)
class Segment:
    key: str
    name: str
    member_count: int = strawberry.field(description="Customers inside it now.")


async def segments_with_counts() -> list[Segment]:
    """Every tracked segment and its current members: two statements in all."""
    rows = await m.Segment.all().order_by("key")
    counted = (
        await m.SegmentMembership.filter(exited_at=None)
        .annotate(n=Count("id"))
        .group_by("segment_id")
        .values("segment_id", "n")
    )
    members = {row["segment_id"]: row["n"] for row in counted}
    return [
        Segment(key=row.key, name=row.name, member_count=members.get(row.id, 0)) for row in rows
    ]
