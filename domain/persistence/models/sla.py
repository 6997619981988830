"""Service levels: deployed SLA policy sets, each ticket's SLA sheet, its clocks and history."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from domain.persistence.models.tickets import Ticket


# One deployed set of SLA policies (with the calendars they use), as plain data the domain
# reads back (domain.sla.policies.PolicyBook.from_data). The highest ``number`` is in force;
# a deploy of the content in force reuses its version; an older content deployed again is a
# new version (the history keeps what was in force when).
class SlaPolicySet(Model):
    id = fields.IntField(primary_key=True)
    number = fields.IntField(unique=True)
    content_hash = fields.CharField(max_length=64)
    definition: Any = fields.JSONField()
    source: Any = fields.JSONField(default=dict)  # file name -> YAML text, as deployed
    created_by = fields.CharField(max_length=120, default="system")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sla_policy_sets"


# What the clocks of one ticket depend on besides the clocks themselves (domain.sla.sheet.Sheet).
# ``status`` and ``priority`` are the ones the clocks last saw, so a change can tell where it
# came from (a reopen leaves SOLVED). Every write is conditional on ``lock_version``.
class SlaSheet(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.OneToOneRelation[Ticket] = fields.OneToOneField(
        "models.Ticket", related_name="sla_sheet", on_delete=fields.CASCADE
    )
    ticket_id: int
    policy_key = fields.CharField(max_length=120, null=True)
    status = fields.CharField(max_length=8)
    priority = fields.CharField(max_length=8)
    agent_replied = fields.BooleanField(default=False)
    awaiting_reply = fields.BooleanField(default=False)
    lock_version = fields.IntField(default=0)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "sla_sheets"


# One metric instance (a clock) of a ticket: ``cycle`` numbers the instances of one metric
# (next_reply per unanswered message, resolution again on reopen). Business time already run
# is kept exactly, in microseconds, with the instant the clock last started running.
class SlaMetric(Model):
    id = fields.IntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="sla_metrics", on_delete=fields.CASCADE
    )
    ticket_id: int
    metric = fields.CharField(max_length=20)  # first_reply | next_reply | resolution
    cycle = fields.IntField(default=1)
    policy_key = fields.CharField(max_length=120)
    target_microseconds = fields.BigIntField()  # business time allowed, {business_days} resolved
    calendar_key = fields.CharField(max_length=120)
    warn_percent = fields.IntField()
    state = fields.CharField(max_length=10, db_index=True)  # ACTIVE|PAUSED|FULFILLED|BREACHED
    started_at = fields.DatetimeField()
    elapsed_microseconds = fields.BigIntField(default=0)
    running_since = fields.DatetimeField(null=True)
    due_at = fields.DatetimeField(null=True, db_index=True)
    warn_due_at = fields.DatetimeField(null=True)
    warned_at = fields.DatetimeField(null=True)
    stopped_at = fields.DatetimeField(null=True)
    breached_at = fields.DatetimeField(null=True)

    class Meta:
        table = "sla_metrics"
        unique_together = (("ticket", "metric", "cycle"),)


# One move of a clock: ACTIVATED, PAUSED, RESUMED, WARNED, FULFILLED or BREACHED, at the instant
# it happened (a breach at its due instant), with the margin then (target minus business time
# elapsed; negative once late).
class SlaEvent(Model):
    id = fields.BigIntField(primary_key=True)
    ticket: fields.ForeignKeyRelation[Ticket] = fields.ForeignKeyField(
        "models.Ticket", related_name="sla_events", on_delete=fields.CASCADE
    )
    ticket_id: int
    sla_metric: fields.ForeignKeyRelation[SlaMetric] = fields.ForeignKeyField(
        "models.SlaMetric", related_name="events", on_delete=fields.CASCADE
    )
    sla_metric_id: int
    kind = fields.CharField(max_length=10)
    policy_key = fields.CharField(max_length=120)
    metric = fields.CharField(max_length=20)
    at = fields.DatetimeField()
    margin_seconds = fields.FloatField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sla_events"
        indexes = (("ticket_id", "at"),)
