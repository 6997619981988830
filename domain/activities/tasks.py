"""Follow-up work: tasks with a due time, an assignee and a lifecycle OPEN -> DONE | CANCELLED."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from domain.activities.interactions import aware
from domain.customers.commands import UNSET, Maybe
from domain.customers.services import check_owner, get_customer
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.persistence.models import Opportunity, Task
from domain.recording import record, to_json, utcnow
from domain.text import fold_required


@dataclass(kw_only=True)
class TaskInput:
    title: Maybe[str] = UNSET
    notes: Maybe[str | None] = UNSET
    due_at: Maybe[dt.datetime | None] = UNSET
    assignee_id: Maybe[int | None] = UNSET
    customer_id: Maybe[int | None] = UNSET
    opportunity_id: Maybe[int | None] = UNSET


async def get_task(task_id: int) -> Task:
    task = await Task.filter(id=task_id, deleted_at=None).first()
    if task is None:
        raise NotFound("Task", task_id)
    return task


async def _validated(data: TaskInput, task: Task | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if data.title is not UNSET:
        title = " ".join(str(data.title).split())
        if not title:
            raise ValidationFailed("title", "a title is required", "REQUIRED")
        values["title"] = title
        values["title_fold"] = fold_required(title)
    elif task is None:
        raise ValidationFailed("title", "a title is required", "REQUIRED")
    if data.notes is not UNSET:
        values["notes"] = data.notes
    if data.due_at is not UNSET:
        values["due_at"] = aware(data.due_at, "dueAt") if data.due_at else None
    if data.assignee_id is not UNSET:
        await check_owner(data.assignee_id, field="assigneeId")
        values["assignee_id"] = data.assignee_id
    if data.customer_id is not UNSET:
        if data.customer_id is not None:
            await get_customer(data.customer_id)
        values["customer_id"] = data.customer_id
    if data.opportunity_id is not UNSET:
        values["opportunity_id"] = data.opportunity_id
    opportunity_id = values.get("opportunity_id", task.opportunity_id if task else None)
    if opportunity_id is not None:
        customer_id = values.get("customer_id", task.customer_id if task else None)
        opportunity = await Opportunity.filter(id=opportunity_id, deleted_at=None).first()
        if opportunity is None:
            raise ValidationFailed("opportunityId", "opportunity not found", "NOT_FOUND")
        if customer_id is None:
            values["customer_id"] = opportunity.customer_id
        elif customer_id != opportunity.customer_id:
            raise ValidationFailed(
                "opportunityId", "the opportunity belongs to another customer", "MISMATCH"
            )
    return values


async def create_task(data: TaskInput, *, actor: str) -> Task:
    """Create an OPEN task; ``actor`` (a user or a workflow run) is kept as ``created_by``."""
    values = await _validated(data, None)
    async with in_transaction():
        task = await Task.create(**values, status="OPEN", created_by=actor, updated_by=actor)
        changes = {k: [None, to_json(v)] for k, v in values.items() if not k.endswith("_fold")}
        await record(actor, "task.create", "Task", task.id, changes, "task.created")
    return task


async def update_task(task_id: int, data: TaskInput, *, actor: str) -> Task:
    task = await get_task(task_id)
    values = await _validated(data, task)
    changes = {
        k: [to_json(getattr(task, k)), to_json(v)]
        for k, v in values.items()
        if getattr(task, k) != v and not k.endswith("_fold")
    }
    if not changes:
        return task
    for key, value in values.items():
        setattr(task, key, value)
    task.updated_by = actor
    async with in_transaction():
        await task.save()
        await record(actor, "task.update", "Task", task.id, changes, "task.updated")
    return task


async def _finish(task_id: int, status: str, *, actor: str) -> Task:
    task = await get_task(task_id)
    if task.status == status:
        return task
    if task.status != "OPEN":
        raise Conflict(f"task {task.id} is already {task.status}", field="status")
    task.status = status
    task.completed_at = utcnow() if status == "DONE" else None
    task.updated_by = actor
    async with in_transaction():
        await task.save(update_fields=["status", "completed_at", "updated_by", "updated_at"])
        await record(
            actor,
            f"task.{'complete' if status == 'DONE' else 'cancel'}",
            "Task",
            task.id,
            {"status": ["OPEN", status], "completed_at": [None, to_json(task.completed_at)]},
            "task.completed" if status == "DONE" else "task.cancelled",
            {"customerId": task.customer_id, "assigneeId": task.assignee_id},
        )
    return task


async def complete_task(task_id: int, *, actor: str) -> Task:
    return await _finish(task_id, "DONE", actor=actor)


async def cancel_task(task_id: int, *, actor: str) -> Task:
    return await _finish(task_id, "CANCELLED", actor=actor)
