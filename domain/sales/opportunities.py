"""Deals: creation, moving through stages, winning, losing and reopening.

Every stage move, and the closing of a deal, appends a ``StageChange`` row: that history is what
forecasts and the customer's timeline read.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

from tortoise.transactions import in_transaction

from domain.customers.services import advance_lifecycle, check_owner, get_customer
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.persistence.models import Opportunity, Stage, StageChange
from domain.recording import record, to_json, utcnow
from domain.sales.pipelines import default_pipeline, get_pipeline, normalize_currency
from domain.text import fold_required


async def get_opportunity(opportunity_id: int) -> Opportunity:
    opportunity = await Opportunity.filter(id=opportunity_id, deleted_at=None).first()
    if opportunity is None:
        raise NotFound("Opportunity", opportunity_id)
    return opportunity


#: The column is NUMERIC(18, 2).
MAX_AMOUNT = decimal.Decimal(10) ** 16
CENT = decimal.Decimal("0.01")


def _amount(value: decimal.Decimal | int | str) -> decimal.Decimal:
    try:
        amount = decimal.Decimal(str(value))
    except decimal.InvalidOperation as exc:
        raise ValidationFailed("amount", f"invalid amount {value!r}", "INVALID") from exc
    if not amount.is_finite() or amount < 0:
        raise ValidationFailed("amount", "amount must be >= 0", "OUT_OF_RANGE")
    if amount >= MAX_AMOUNT:
        raise ValidationFailed("amount", f"amount must be below {MAX_AMOUNT:,}", "OUT_OF_RANGE")
    if amount != amount.quantize(CENT):
        # Silently rounding money is worse than asking: amounts keep two decimal places.
        raise ValidationFailed("amount", "at most 2 decimal places", "INVALID_PRECISION")
    return amount


async def _stage_of(pipeline_id: int, stage_id: int | None) -> Stage:
    if stage_id is None:
        stage = await Stage.filter(pipeline_id=pipeline_id, deleted_at=None).order_by("position")
        if not stage:
            raise ValidationFailed("stageId", "the pipeline has no stages", "REQUIRED")
        return stage[0]
    found = await Stage.filter(id=stage_id, deleted_at=None).first()
    if found is None:
        raise ValidationFailed("stageId", f"stage {stage_id} not found", "NOT_FOUND")
    if found.pipeline_id != pipeline_id:
        raise ValidationFailed("stageId", "the stage belongs to another pipeline", "INVALID_STAGE")
    return found


async def _stage_change(
    opportunity: Opportunity, from_stage_id: int | None, *, actor: str, at: dt.datetime
) -> None:
    await StageChange.create(
        opportunity_id=opportunity.id,
        customer_id=opportunity.customer_id,
        from_stage_id=from_stage_id,
        to_stage_id=opportunity.stage_id,
        status=opportunity.status,
        changed_at=at,
        created_by=actor,
        updated_by=actor,
    )


async def create_opportunity(
    *,
    name: str,
    customer_id: int,
    pipeline_id: int | None = None,
    stage_id: int | None = None,
    owner_id: int | None = None,
    amount: decimal.Decimal | int | str = 0,
    currency: str | None = None,
    expected_close_on: dt.date | None = None,
    actor: str,
) -> Opportunity:
    """Open a deal (default pipeline and its first stage unless given).

    The customer is promoted to OPPORTUNITY when it was earlier in the funnel.
    """
    clean_name = " ".join(name.split())
    if not clean_name:
        raise ValidationFailed("name", "a name is required", "REQUIRED")
    value = _amount(amount)
    customer = await get_customer(customer_id)
    if pipeline_id is None:
        pipeline = await default_pipeline()
        if pipeline is None:
            raise ValidationFailed("pipelineId", "no pipeline exists", "REQUIRED")
    else:
        pipeline = await get_pipeline(pipeline_id)
    stage = await _stage_of(pipeline.id, stage_id)
    code = normalize_currency(currency) if currency else pipeline.currency
    await check_owner(owner_id)
    now = utcnow()
    async with in_transaction():
        opportunity = await Opportunity.create(
            name=clean_name,
            name_fold=fold_required(clean_name),
            customer_id=customer.id,
            owner_id=owner_id,
            pipeline_id=pipeline.id,
            stage_id=stage.id,
            amount=value,
            currency=code,
            expected_close_on=expected_close_on,
            created_by=actor,
            updated_by=actor,
        )
        await _stage_change(opportunity, None, actor=actor, at=now)
        changes: dict[str, Any] = {
            "name": [None, clean_name],
            "customer_id": [None, customer.id],
            "pipeline_id": [None, pipeline.id],
            "stage_id": [None, stage.id],
            "amount": [None, to_json(value)],
            "currency": [None, code],
        }
        await record(
            actor,
            "opportunity.create",
            "Opportunity",
            opportunity.id,
            changes,
            "opportunity.created",
            {"customerId": customer.id, "changes": changes},
        )
        await advance_lifecycle(customer, "OPPORTUNITY", actor=actor)
    return opportunity


def _require_open(opportunity: Opportunity) -> None:
    if opportunity.status != "OPEN":
        raise Conflict(f"opportunity {opportunity.id} is {opportunity.status}", field="status")


async def move_opportunity(opportunity_id: int, *, stage_id: int, actor: str) -> Opportunity:
    """Move an open deal to another stage of its pipeline."""
    opportunity = await get_opportunity(opportunity_id)
    _require_open(opportunity)
    stage = await _stage_of(opportunity.pipeline_id, stage_id)
    if stage.id == opportunity.stage_id:
        return opportunity
    from_stage_id = opportunity.stage_id
    opportunity.stage_id = stage.id
    opportunity.updated_by = actor
    async with in_transaction():
        await opportunity.save(update_fields=["stage_id", "updated_by", "updated_at"])
        await _stage_change(opportunity, from_stage_id, actor=actor, at=utcnow())
        await record(
            actor,
            "opportunity.move",
            "Opportunity",
            opportunity.id,
            {"stage_id": [from_stage_id, stage.id]},
            "opportunity.stage_changed",
            {
                "customerId": opportunity.customer_id,
                "fromStageId": from_stage_id,
                "toStageId": stage.id,
            },
        )
    return opportunity


async def _close(opportunity: Opportunity, status: str, reason: str | None, *, actor: str) -> None:
    now = utcnow()
    before = {
        "status": opportunity.status,
        "lost_reason": opportunity.lost_reason,
        "closed_at": to_json(opportunity.closed_at),
    }
    opportunity.status = status
    opportunity.lost_reason = reason  # type: ignore[assignment]  # the column is nullable
    opportunity.closed_at = now if status != "OPEN" else None
    opportunity.updated_by = actor
    await opportunity.save(
        update_fields=["status", "lost_reason", "closed_at", "updated_by", "updated_at"]
    )
    await _stage_change(opportunity, opportunity.stage_id, actor=actor, at=now)
    after = {"status": status, "lost_reason": reason, "closed_at": to_json(opportunity.closed_at)}
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    event = {"WON": "opportunity.won", "LOST": "opportunity.lost", "OPEN": "opportunity.reopened"}
    await record(
        actor,
        f"opportunity.{status.lower()}",
        "Opportunity",
        opportunity.id,
        changes,
        event[status],
        {
            "customerId": opportunity.customer_id,
            "amount": str(opportunity.amount),
            "currency": opportunity.currency,
            "reason": reason,
        },
    )


async def win_opportunity(opportunity_id: int, *, actor: str) -> Opportunity:
    """Mark a deal WON; its customer becomes a CUSTOMER (audited, with its own event)."""
    opportunity = await get_opportunity(opportunity_id)
    _require_open(opportunity)
    customer = await get_customer(opportunity.customer_id, include_deleted=True)
    async with in_transaction():
        await _close(opportunity, "WON", None, actor=actor)
        await advance_lifecycle(customer, "CUSTOMER", actor=actor)
    return opportunity


async def lose_opportunity(opportunity_id: int, *, reason: str, actor: str) -> Opportunity:
    """Mark a deal LOST; a reason is required (it feeds loss analysis)."""
    clean_reason = reason.strip()
    if not clean_reason:
        raise ValidationFailed("reason", "a lost reason is required", "REQUIRED")
    opportunity = await get_opportunity(opportunity_id)
    _require_open(opportunity)
    async with in_transaction():
        await _close(opportunity, "LOST", clean_reason, actor=actor)
    return opportunity


async def reopen_opportunity(opportunity_id: int, *, actor: str) -> Opportunity:
    """Reopen a closed deal in the stage it closed in (the customer's stage is left alone)."""
    opportunity = await get_opportunity(opportunity_id)
    if opportunity.status == "OPEN":
        return opportunity
    async with in_transaction():
        await _close(opportunity, "OPEN", None, actor=actor)
    return opportunity
