from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


# Who changed what: before/after of changed fields, written in the change's transaction.
class AuditEntry(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor = fields.CharField(max_length=120)
    action = fields.CharField(max_length=60)
    target_type = fields.CharField(max_length=40)
    target_id = fields.IntField()
    changes: Any = fields.JSONField(default=dict)  # {"field": [before, after]}
    request_id = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_entries"
        # The audit query filters by target or by actor and pages by id.
        indexes = (("target_type", "target_id"), ("actor", "id"))


# The domain-event outbox: written with the change, relayed after commit.
class DomainEvent(Model):
    id = fields.BigIntField(primary_key=True)
    type = fields.CharField(max_length=60)
    subject_type = fields.CharField(max_length=40)
    subject_id = fields.IntField()
    payload: Any = fields.JSONField(default=dict)
    actor = fields.CharField(max_length=120, default="system")
    occurred_at = fields.DatetimeField()
    dispatched_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "domain_events"
