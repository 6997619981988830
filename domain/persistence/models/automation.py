"""Workflow automation: deployed workflows and their versions, runs and their history, durable
timers and the e-mail outbox."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.persistence.models.customers import Customer


# A workflow by its stable key (the YAML ``key``); ``current_version`` is what new runs use.
class Workflow(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=200)
    subject = fields.CharField(max_length=40)  # customer | opportunity | task | interaction
    status = fields.CharField(max_length=8, default="ACTIVE")  # ACTIVE | PAUSED
    current_version: fields.ForeignKeyNullableRelation[WorkflowVersion] = fields.ForeignKeyField(
        "models.WorkflowVersion", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    current_version_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "workflows"


# One deployed content of a workflow; a deploy with unchanged content reuses the version.
class WorkflowVersion(Model):
    id = fields.IntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "models.Workflow", related_name="versions", on_delete=fields.CASCADE
    )
    workflow_id: int
    number = fields.IntField()
    content_hash = fields.CharField(max_length=64)  # sha256 hex of the source
    source = fields.TextField()
    definition: Any = fields.JSONField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "workflow_versions"
        unique_together = (("workflow", "content_hash"), ("workflow", "number"))


# One subject's journey through one version of a workflow; ``state_json`` is RunState.to_json().
class WorkflowRun(Model):
    id = fields.IntField(primary_key=True)
    workflow: fields.ForeignKeyRelation[Workflow] = fields.ForeignKeyField(
        "models.Workflow", related_name="runs", on_delete=fields.CASCADE
    )
    workflow_id: int
    version: fields.ForeignKeyRelation[WorkflowVersion] = fields.ForeignKeyField(
        "models.WorkflowVersion", related_name="runs", on_delete=fields.RESTRICT
    )
    version_id: int
    subject_type = fields.CharField(max_length=40)
    subject_id = fields.IntField()
    # ACTIVE | WAITING | CONVERTED | EXITED | COMPLETED | FAILED
    state = fields.CharField(max_length=10, default="ACTIVE")
    state_json: Any = fields.JSONField(default=dict)
    split_arm = fields.CharField(max_length=60, null=True)
    started_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    # Optimistic concurrency: every state write bumps it and is conditional on the old value.
    lock_version = fields.IntField(default=0)

    class Meta:
        table = "workflow_runs"
        indexes = (("workflow_id", "subject_type", "subject_id", "state"),)


# One line of a run's history. ``input_key`` identifies the input (timer, event, enrollment)
# that produced the line, so a redelivered input cannot record its step twice.
class WorkflowRunStep(Model):
    id = fields.BigIntField(primary_key=True)
    run: fields.ForeignKeyRelation[WorkflowRun] = fields.ForeignKeyField(
        "models.WorkflowRun", related_name="steps", on_delete=fields.CASCADE
    )
    run_id: int
    step_id = fields.CharField(max_length=120)
    kind = fields.CharField(max_length=40)
    # DONE | SKIPPED | SUPPRESSED | WAITING | TIMED_OUT | MATCHED | FAILED
    outcome = fields.CharField(max_length=12)
    detail: Any = fields.JSONField(default=dict)
    at = fields.DatetimeField()
    input_key = fields.CharField(max_length=200, null=True)

    class Meta:
        table = "workflow_run_steps"
        unique_together = (("run", "input_key"),)


# A durable timer: claimed by due time by the scheduler, fired by a worker. ``run`` is null
# for timers that belong to no run (SLA timers). A timer's claim is a lease: a claimer that
# dies leaves it CLAIMED until ``claimed_until`` passes, and then anyone may claim it again.
class Timer(Model):
    id = fields.BigIntField(primary_key=True)
    run: fields.ForeignKeyNullableRelation[WorkflowRun] = fields.ForeignKeyField(
        "models.WorkflowRun", related_name="timers", null=True, on_delete=fields.CASCADE
    )
    run_id: int | None
    key = fields.CharField(max_length=200)
    purpose = fields.CharField(max_length=20)  # wait | timeout | window | retry | sla
    due_at = fields.DatetimeField(db_index=True)
    status = fields.CharField(max_length=10, default="PENDING")  # PENDING|CLAIMED|FIRED|CANCELLED
    claimed_until = fields.DatetimeField(null=True)
    claim_token = fields.CharField(max_length=32, null=True)
    attempts = fields.IntField(default=0)
    fired_at = fields.DatetimeField(null=True)
    payload: Any = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "timers"
        unique_together = (("run", "key"),)
        # (status, fired_at): the admin lateness report reads the timers fired in a recent window.
        indexes = (("status", "due_at"), ("status", "fired_at"))


# The e-mail outbox: written in the transaction that decides to send, delivered by a worker.
class EmailMessage(Model):
    id = fields.BigIntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=200, unique=True)
    run: fields.ForeignKeyNullableRelation[WorkflowRun] = fields.ForeignKeyField(
        "models.WorkflowRun", related_name="emails", null=True, on_delete=fields.SET_NULL
    )
    run_id: int | None
    from_address = fields.CharField(max_length=320, null=True)
    to_address = fields.CharField(max_length=320)
    subject = fields.CharField(max_length=500)
    text = fields.TextField()
    html = fields.TextField(null=True)
    # PENDING | SENDING | SENT | FAILED | CANCELLED (its recipient's data was erased)
    status = fields.CharField(max_length=10, default="PENDING")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    sending_since = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    message_id = fields.CharField(max_length=300, null=True)
    # The workflow step that sent it (fed ``ActionFailed`` when delivery gives up) and that
    # step's ``retry`` ({attempts, backoff, max_backoff}); null: the outbox's default policy.
    step_id = fields.CharField(max_length=120, null=True)
    retry_policy: Any = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "email_messages"


# The webhook outbox: a signed POST written in the transaction that decides to call it,
# delivered by a worker, retried with back-off per ``retry_policy`` (the step's ``retry``).
class WebhookDelivery(Model):
    id = fields.BigIntField(primary_key=True)
    idempotency_key = fields.CharField(max_length=200, unique=True)
    run: fields.ForeignKeyNullableRelation[WorkflowRun] = fields.ForeignKeyField(
        "models.WorkflowRun", related_name="webhooks", null=True, on_delete=fields.SET_NULL
    )
    run_id: int | None
    step_id = fields.CharField(max_length=120, null=True)
    url = fields.CharField(max_length=2000)
    body: Any = fields.JSONField(null=True)
    headers: Any = fields.JSONField(default=dict)
    # PENDING | SENDING | SENT | FAILED | CANCELLED (the customer it is about was erased)
    status = fields.CharField(max_length=10, default="PENDING")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    sending_since = fields.DatetimeField(null=True)
    last_status_code = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    sent_at = fields.DatetimeField(null=True)
    retry_policy: Any = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_deliveries"


# A segment (YAML ``segments:``) that a deployed workflow's trigger refers to: its membership
# is kept so ``segment:`` triggers can enroll on entering it. ``condition`` is its CEL ``when``.
class Segment(Model):
    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=120, unique=True)
    name = fields.CharField(max_length=200)
    subject = fields.CharField(max_length=40, default="customer")
    condition = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "segments"


# One stay of a customer in a segment; ``exited_at`` is null while the customer is inside.
class SegmentMembership(Model):
    id = fields.BigIntField(primary_key=True)
    segment: fields.ForeignKeyRelation[Segment] = fields.ForeignKeyField(
        "models.Segment", related_name="memberships", on_delete=fields.CASCADE
    )
    segment_id: int
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="segment_memberships", on_delete=fields.CASCADE
    )
    customer_id: int
    entered_at = fields.DatetimeField()
    exited_at = fields.DatetimeField(null=True)

    class Meta:
        table = "segment_memberships"
        indexes = (("segment_id", "customer_id", "exited_at"), ("customer_id", "exited_at"))


# A named lease one process holds at a time (the event relay): taken with a conditional upsert,
# renewed while the work goes on, released at the end; a holder that dies lets it expire.
class RuntimeLease(Model):
    name = fields.CharField(max_length=60, primary_key=True)
    holder = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "runtime_leases"
