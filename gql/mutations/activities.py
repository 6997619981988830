"""Mutations on interactions and tasks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry

from domain.activities import tasks
from domain.activities.interactions import log_interaction
from domain.activities.tasks import TaskInput
from domain.customers.commands import UNSET as DOMAIN_UNSET
from domain.identity.scope import default_owner
from gql.context import Context
from gql.enums import Direction, InteractionKind
from gql.ids import decode_pk
from gql.mutations.results import MutationFailure, attempt, given_fields
from gql.types.activities import Interaction, Task

Info = strawberry.Info[Context, None]
CUSTOMER_TYPES = ("Person", "Organization")
UNSET = strawberry.UNSET


@strawberry.type
class InteractionSuccess:
    interaction: Interaction


@strawberry.type
class TaskSuccess:
    task: Task


InteractionResult = Annotated[
    InteractionSuccess | MutationFailure, strawberry.union("InteractionResult")
]
TaskResult = Annotated[TaskSuccess | MutationFailure, strawberry.union("TaskResult")]


@strawberry.input
class LogInteractionInput:
    customer_id: strawberry.ID
    kind: InteractionKind
    direction: Direction = Direction.OUTBOUND
    subject: str | None = None
    body: str | None = None
    occurred_at: dt.datetime | None = strawberry.field(default=None, description="Default: now.")
    user_id: strawberry.ID | None = None
    opportunity_id: strawberry.ID | None = None


@strawberry.input(description="Fields of a task; omitted fields are left unchanged on update.")
class TaskFields:
    title: str | None = UNSET
    notes: str | None = UNSET
    due_at: dt.datetime | None = UNSET
    assignee_id: strawberry.ID | None = UNSET
    customer_id: strawberry.ID | None = UNSET
    opportunity_id: strawberry.ID | None = UNSET


@strawberry.input
class UpdateTaskInput:
    id: strawberry.ID
    patch: TaskFields


@strawberry.input
class TaskRefInput:
    id: strawberry.ID


_TASK_REFS: dict[str, tuple[tuple[str, ...], str]] = {
    "assignee_id": (("User",), "assigneeId"),
    "customer_id": (CUSTOMER_TYPES, "customerId"),
    "opportunity_id": (("Opportunity",), "opportunityId"),
}


def task_command(fields: TaskFields) -> TaskInput:
    values = given_fields(fields)
    for name, (types, field) in _TASK_REFS.items():
        value = values.get(name)
        if isinstance(value, str):
            values[name] = decode_pk(value, *types, field=field)
    return TaskInput(**values)


@strawberry.type
class ActivityMutations:
    @strawberry.mutation(description="Record a call, meeting, e-mail... with a customer.")
    async def log_interaction(self, info: Info, input: LogInteractionInput) -> InteractionResult:
        async def run() -> InteractionSuccess:
            row = await log_interaction(
                customer_id=decode_pk(input.customer_id, *CUSTOMER_TYPES, field="customerId"),
                kind=input.kind.value,
                direction=input.direction.value,
                subject=input.subject,
                body=input.body,
                occurred_at=input.occurred_at,
                user_id=None
                if input.user_id is None
                else decode_pk(input.user_id, "User", field="userId"),
                opportunity_id=None
                if input.opportunity_id is None
                else decode_pk(input.opportunity_id, "Opportunity", field="opportunityId"),
                actor=info.context.actor,
            )
            return InteractionSuccess(interaction=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Create an open task.")
    async def create_task(self, info: Info, input: TaskFields) -> TaskResult:
        async def run() -> TaskSuccess:
            command = task_command(input)
            if command.assignee_id is DOMAIN_UNSET:
                command.assignee_id = default_owner(info.context.principal)
            row = await tasks.create_task(command, actor=info.context.actor)
            return TaskSuccess(task=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation
    async def update_task(self, info: Info, input: UpdateTaskInput) -> TaskResult:
        async def run() -> TaskSuccess:
            row = await tasks.update_task(
                decode_pk(input.id, "Task"), task_command(input.patch), actor=info.context.actor
            )
            return TaskSuccess(task=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Mark a task done.")
    async def complete_task(self, info: Info, input: TaskRefInput) -> TaskResult:
        async def run() -> TaskSuccess:
            row = await tasks.complete_task(decode_pk(input.id, "Task"), actor=info.context.actor)
            return TaskSuccess(task=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation
    async def cancel_task(self, info: Info, input: TaskRefInput) -> TaskResult:
        async def run() -> TaskSuccess:
            row = await tasks.cancel_task(decode_pk(input.id, "Task"), actor=info.context.actor)
            return TaskSuccess(task=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)
