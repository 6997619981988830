"""Workflow queries and mutations: deploy, pause/resume, enroll by hand, cancel and retry runs."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import strawberry
from tortoise.expressions import RawSQL

from domain.errors import ValidationFailed
from domain.identity.permissions import allows
from domain.persistence import models as m
from gql.context import Context
from gql.ids import decode_id, decode_pk
from gql.mutations.results import MutationError, MutationFailure, attempt
from gql.pagination import Connection, Edge, PageInfo
from gql.types.workflows import (
    Segment,
    Workflow,
    WorkflowRun,
    WorkflowRunState,
    segments_with_counts,
)
from workflows.language.source import dotted
from workflows.runtime import admin
from workflows.runtime.deploy import deploy_texts
from workflows.runtime.dispatch import utcnow
from workflows.runtime.run_migration import migrate_runs

Info = strawberry.Info[Context, None]
MAX_PAGE = 100
DEFAULT_PAGE = 50
_SUBJECT_OF = {
    "Person": "customer",
    "Organization": "customer",
    "Opportunity": "opportunity",
    "Ticket": "ticket",
}


# ---- queries ------------------------------------------------------------------------------


@strawberry.input
class WorkflowRunFilter:
    workflow_key: str | None = None
    state: list[WorkflowRunState] | None = None
    subject_id: strawberry.ID | None = strawberry.field(
        default=None, description="A person, organization, opportunity or ticket."
    )


def _cursor(pk: int) -> str:
    return base64.b64encode(f"run:{pk}".encode()).decode()


def _after(cursor: str) -> int:
    try:
        kind, _, raw = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != "run":
            raise ValueError(kind)
        return int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationFailed("after", f"malformed cursor {cursor!r}", "INVALID_CURSOR") from exc


@strawberry.type
class WorkflowQuery:
    @strawberry.field(description="Every deployed workflow, by key.")
    async def workflows(self) -> list[Workflow]:
        return await m.Workflow.all().order_by("key")  # type: ignore[return-value]

    @strawberry.field(description="A workflow by its key; null if none is deployed.")
    async def workflow(self, key: str) -> Workflow | None:
        return await m.Workflow.get_or_none(key=key)  # type: ignore[return-value]

    @strawberry.field(
        description="Segments that `segment:` triggers enroll on, with their member counts."
    )
    async def segments(self) -> list[Segment]:
        return await segments_with_counts()

    @strawberry.field(description="Workflow runs, oldest first (keyset paging by id).")
    async def workflow_runs(
        self,
        info: strawberry.Info[Context, None],
        filter: WorkflowRunFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WorkflowRun]:
        size = DEFAULT_PAGE if first is None else first
        if not 0 <= size <= MAX_PAGE:
            raise ValidationFailed(
                "first", f"first must be 0..{MAX_PAGE}", "PAGE_SIZE_OUT_OF_RANGE"
            )
        query = m.WorkflowRun.all()
        in_scope = info.context.scope.condition("WorkflowRun", m.WorkflowRun._meta.db_table)
        if in_scope is not None:
            # Runs of customers and deals out of the reader's scope are not there at all.
            query = query.annotate(_in_scope=RawSQL(f"CASE WHEN {in_scope} THEN 1 ELSE 0 END"))
            query = query.filter(_in_scope=1)
        if filter is not None:
            if filter.workflow_key is not None:
                query = query.filter(workflow__key=filter.workflow_key)
            if filter.state:
                query = query.filter(state__in=[s.value for s in filter.state])
            if filter.subject_id is not None:
                type_name, pk = decode_id(
                    filter.subject_id, expected=set(_SUBJECT_OF), field="filter.subjectId"
                )
                query = query.filter(subject_type=_SUBJECT_OF[type_name], subject_id=pk)
        page = query
        if after is not None:
            page = page.filter(id__gt=_after(after))
        rows = await page.order_by("id").limit(size + 1)
        has_next = len(rows) > size
        rows = rows[:size]
        cursors = [_cursor(row.id) for row in rows]

        async def total() -> int:
            return await query.count()

        return Connection(
            edges=[Edge(cursor=c, node=row) for c, row in zip(cursors, rows, strict=True)],  # type: ignore[arg-type]
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=after is not None,
                start_cursor=cursors[0] if cursors else None,
                end_cursor=cursors[-1] if cursors else None,
            ),
            known_total=None,
            count_total=total,
        )


# ---- mutations ----------------------------------------------------------------------------


@strawberry.input
class WorkflowFileInput:
    name: str = strawberry.field(description="The file name problems are reported against.")
    content: str


@strawberry.input
class DeployWorkflowInput:
    files: list[WorkflowFileInput] = strawberry.field(
        description="Workflow files plus the bundle files (templates, calendars) they use."
    )


@strawberry.type
class DeployedWorkflow:
    key: str
    version: int
    created: bool = strawberry.field(description="False when the content was unchanged.")


@strawberry.type(description="The SLA policy set now in force (sla_policies in the files).")
class DeployedSlaPolicies:
    version: int
    created: bool = strawberry.field(description="False when the content was unchanged.")


@strawberry.type
class DeployWorkflowSuccess:
    workflows: list[DeployedWorkflow]
    sla_policies: DeployedSlaPolicies | None = strawberry.field(
        description="Set when the files define sla_policies: they replace the policies in force."
    )


@strawberry.type
class WorkflowProblem:
    file: str
    line: int
    column: int
    path: str = strawberry.field(description="Where in the YAML, e.g. steps[2].wait_for.")
    message: str


@strawberry.type(description="The files did not validate; nothing was deployed.")
class WorkflowValidationError(MutationError):
    problems: list[WorkflowProblem]


@strawberry.input
class WorkflowKeyInput:
    key: str


@strawberry.input
class EnrollInWorkflowInput:
    key: str
    subject_id: strawberry.ID = strawberry.field(
        description="A person, organization or opportunity, as the workflow's subject."
    )


@strawberry.input
class WorkflowRunRefInput:
    id: strawberry.ID


@strawberry.type
class WorkflowSuccess:
    workflow: Workflow


@strawberry.type
class WorkflowRunSuccess:
    run: WorkflowRun


@strawberry.input(description="A step of the old version and the step of the new one it becomes.")
class StepMapping:
    from_: str = strawberry.field(name="from")
    to: str


@strawberry.input
class MigrateWorkflowRunsInput:
    workflow_key: str
    from_version: int
    to_version: int
    step_map: list[StepMapping] = strawberry.field(
        default_factory=list,
        description=(
            "Where runs at steps the new version lacks go; a step id present in both versions "
            "maps to itself."
        ),
    )


@strawberry.type
class MigrateWorkflowRunsSuccess:
    migrated: int = strawberry.field(description="How many live runs moved.")
    workflow: Workflow


DeployWorkflowResult = Annotated[
    DeployWorkflowSuccess | WorkflowValidationError | MutationFailure,
    strawberry.union("DeployWorkflowResult"),
]
WorkflowResult = Annotated[WorkflowSuccess | MutationFailure, strawberry.union("WorkflowResult")]
MigrateWorkflowRunsResult = Annotated[
    MigrateWorkflowRunsSuccess | MutationFailure, strawberry.union("MigrateWorkflowRunsResult")
]
WorkflowRunResult = Annotated[
    WorkflowRunSuccess | MutationFailure, strawberry.union("WorkflowRunResult")
]


def _run_pk(value: str) -> int:
    return decode_pk(value, "WorkflowRun")


@strawberry.type
class WorkflowMutations:
    @strawberry.mutation(
        description="Validate workflow files and store a new version of each changed workflow; "
        "files with sla_policies deploy a new SLA policy set."
    )
    async def deploy_workflow(self, info: Info, input: DeployWorkflowInput) -> DeployWorkflowResult:
        async def run() -> DeployWorkflowSuccess | WorkflowValidationError:
            texts: dict[str, str] = {}
            for item in input.files:
                if item.name in texts:
                    raise ValidationFailed("files", f"file {item.name} given twice", "DUPLICATE")
                texts[item.name] = item.content
            if not texts:
                raise ValidationFailed("files", "no files given", "REQUIRED")
            result = await deploy_texts(
                texts,
                actor=info.context.actor,
                may_deploy_sla_policies=allows(info.context.principal, "create", "SlaPolicy"),
            )
            if result.problems:
                return WorkflowValidationError(
                    message=f"{len(result.problems)} problem(s); nothing deployed",
                    code="WORKFLOW_INVALID",
                    problems=[
                        WorkflowProblem(
                            file=p.file,
                            line=p.line,
                            column=p.col,
                            path=dotted(p.path),
                            message=p.message,
                        )
                        for p in result.problems
                    ],
                )
            return DeployWorkflowSuccess(
                workflows=[
                    DeployedWorkflow(key=d.key, version=d.version, created=d.created)
                    for d in result.deployed
                ],
                sla_policies=None
                if result.sla_policies is None
                else DeployedSlaPolicies(
                    version=result.sla_policies[0], created=result.sla_policies[1]
                ),
            )

        return await attempt(info.context, run)

    @strawberry.mutation(description="Stop enrolling; live runs hold before their next step.")
    async def pause_workflow(self, info: Info, input: WorkflowKeyInput) -> WorkflowResult:
        async def run() -> WorkflowSuccess:
            row = await admin.pause_workflow(input.key, actor=info.context.actor)
            return WorkflowSuccess(workflow=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Enroll again; held runs continue where they stopped.")
    async def resume_workflow(self, info: Info, input: WorkflowKeyInput) -> WorkflowResult:
        async def run() -> WorkflowSuccess:
            row = await admin.resume_workflow(input.key, actor=info.context.actor, now=utcnow())
            return WorkflowSuccess(workflow=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(
        description="Start a run of a manual workflow for a subject; a ConflictError says why not."
    )
    async def enroll_in_workflow(
        self, info: Info, input: EnrollInWorkflowInput
    ) -> WorkflowRunResult:
        async def run() -> WorkflowRunSuccess:
            type_name, pk = decode_id(
                input.subject_id, expected=set(_SUBJECT_OF), field="subjectId"
            )
            row = await admin.enroll_manually(
                input.key, _SUBJECT_OF[type_name], pk, actor=info.context.actor, now=utcnow()
            )
            return WorkflowRunSuccess(run=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="End a live run as EXITED (reason: cancelled).")
    async def cancel_workflow_run(
        self, info: Info, input: WorkflowRunRefInput
    ) -> WorkflowRunResult:
        async def run() -> WorkflowRunSuccess:
            row = await admin.cancel_run(_run_pk(input.id), actor=info.context.actor, now=utcnow())
            return WorkflowRunSuccess(run=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Run a FAILED run again from the step that failed.")
    async def retry_workflow_run(self, info: Info, input: WorkflowRunRefInput) -> WorkflowRunResult:
        async def run() -> WorkflowRunSuccess:
            row = await admin.retry_run(_run_pk(input.id), actor=info.context.actor, now=utcnow())
            return WorkflowRunSuccess(run=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(
        description=(
            "Move a workflow's live runs from one version to another, all or none; a "
            "ValidationError (UNMAPPED_STEPS) lists the steps that need a stepMap entry."
        )
    )
    async def migrate_workflow_runs(
        self, info: Info, input: MigrateWorkflowRunsInput
    ) -> MigrateWorkflowRunsResult:
        async def run() -> MigrateWorkflowRunsSuccess:
            step_map: dict[str, str] = {}
            for pair in input.step_map:
                if pair.from_ in step_map:
                    raise ValidationFailed(
                        "stepMap", f"step {pair.from_} is mapped twice", "DUPLICATE"
                    )
                step_map[pair.from_] = pair.to
            moved = await migrate_runs(
                input.workflow_key,
                input.from_version,
                input.to_version,
                step_map,
                actor=info.context.actor,
                now=utcnow(),
            )
            workflow = await m.Workflow.get(key=input.workflow_key)
            return MigrateWorkflowRunsSuccess(migrated=moved, workflow=workflow)  # type: ignore[arg-type]

        return await attempt(info.context, run)
