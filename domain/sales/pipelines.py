"""Pipelines and their ordered stages."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from domain.errors import NotFound, ValidationFailed
from domain.persistence.models import Pipeline, Stage
from domain.recording import record
from domain.text import fold_required

DEFAULT_PIPELINE_NAME = "Sales"
DEFAULT_STAGES: tuple[tuple[str, int], ...] = (
    ("Qualification", 10),
    ("Needs analysis", 30),
    ("Proposal", 60),
    ("Negotiation", 80),
)


def normalize_currency(value: str, *, field: str = "currency") -> str:
    code = value.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationFailed(field, f"invalid ISO 4217 currency {value!r}", "INVALID_CURRENCY")
    return code


async def get_pipeline(pipeline_id: int) -> Pipeline:
    pipeline = await Pipeline.filter(id=pipeline_id, deleted_at=None).first()
    if pipeline is None:
        raise NotFound("Pipeline", pipeline_id)
    return pipeline


async def default_pipeline() -> Pipeline | None:
    live = Pipeline.filter(deleted_at=None)
    return (
        await live.filter(is_default=True).order_by("id").first()
        or await live.order_by("id").first()
    )


async def pipeline_stages(pipeline_id: int) -> list[Stage]:
    return await Stage.filter(pipeline_id=pipeline_id, deleted_at=None).order_by("position")


async def create_pipeline(
    *,
    name: str,
    stages: Sequence[tuple[str, int]],
    is_default: bool = False,
    currency: str = "VND",
    actor: str,
) -> Pipeline:
    """Create a pipeline with ``stages`` in the given order (name, win probability 0..100).

    Making it the default clears the flag on every other pipeline.
    """
    clean_name = " ".join(name.split())
    if not clean_name:
        raise ValidationFailed("name", "a name is required", "REQUIRED")
    if not stages:
        raise ValidationFailed("stages", "a pipeline needs at least one stage", "REQUIRED")
    cleaned: list[tuple[str, int]] = []
    for index, (stage_name, probability) in enumerate(stages):
        label = " ".join(stage_name.split())
        if not label:
            raise ValidationFailed(f"stages[{index}].name", "a name is required", "REQUIRED")
        if not isinstance(probability, int) or not 0 <= probability <= 100:
            raise ValidationFailed(
                f"stages[{index}].probability", "probability is 0..100", "OUT_OF_RANGE"
            )
        cleaned.append((label, probability))
    code = normalize_currency(currency)
    async with in_transaction():
        if is_default:
            await Pipeline.filter(is_default=True).update(is_default=False)
        pipeline = await Pipeline.create(
            name=clean_name,
            name_fold=fold_required(clean_name),
            is_default=is_default,
            currency=code,
            created_by=actor,
            updated_by=actor,
        )
        await Stage.bulk_create(
            [
                Stage(
                    pipeline_id=pipeline.id,
                    name=label,
                    name_fold=fold_required(label),
                    position=position,
                    probability=probability,
                    created_by=actor,
                    updated_by=actor,
                )
                for position, (label, probability) in enumerate(cleaned)
            ]
        )
        await record(
            actor,
            "pipeline.create",
            "Pipeline",
            pipeline.id,
            {"name": [None, clean_name], "stages": [None, [list(s) for s in cleaned]]},
            "pipeline.created",
        )
    return pipeline


async def ensure_default_pipelines(*, actor: str = "system") -> Pipeline:
    """Create the "Sales" pipeline when no pipeline exists yet; return the default one."""
    existing = await default_pipeline()
    if existing is not None:
        return existing
    return await create_pipeline(
        name=DEFAULT_PIPELINE_NAME, stages=DEFAULT_STAGES, is_default=True, actor=actor
    )
