"""Columns every record carries: timestamps, soft delete and the acting principal."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


# Abstract base: ``created_at``/``updated_at``, soft delete, and who created/updated it.
#
# Actors are stored as ``kind:ident`` strings (``user:12``, ``apikey:3``, ``import:batch-7``,
# ``workflow:run:41:step:send_welcome``, ``system``) so that any principal kind, including ones
# added later, fits without a foreign key per kind.
class Record(Model):
    id = fields.IntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True, db_index=True)
    deleted_at = fields.DatetimeField(null=True)
    created_by = fields.CharField(max_length=120, default="system")
    updated_by = fields.CharField(max_length=120, default="system")

    class Meta:
        abstract = True
