"""The SLA policy set in force, as deployed (``slaPolicySet``), for admins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from domain.sla.book import policy_set_in_force
from domain.sla.policies import METRICS, PRIORITIES
from gql.enums import TicketPriority, TicketStatus
from gql.types.sla import SlaMetricKind


@strawberry.type(description="One promise of a policy: a metric for a priority.")
class SlaTarget:
    priority: TicketPriority
    metric: SlaMetricKind
    business_minutes: int | None
    business_days: int | None = strawberry.field(
        description="By the closing of the Nth working day after the clock starts."
    )
    calendar: str


@strawberry.type
class SlaPolicy:
    key: str
    applies_when: str = strawberry.field(description="CEL over `ticket` and `now`.")
    calendar: str | None
    targets: list[SlaTarget]
    pause_when_status: list[TicketStatus]
    warn_at_percent: int


@strawberry.type(description="The SLA policies in force, tried in order; the first that holds.")
class SlaPolicySet:
    version: int
    deployed_at: dt.datetime
    deployed_by: str
    policies: list[SlaPolicy]


def _policy(data: dict[str, Any]) -> SlaPolicy:
    targets = []
    for priority in PRIORITIES:
        spec = (data.get("targets") or {}).get(priority) or {}
        for metric in METRICS:
            value = spec.get(metric)
            if value is None:
                continue
            targets.append(
                SlaTarget(
                    priority=TicketPriority(priority),
                    metric=SlaMetricKind(metric),
                    business_minutes=value if isinstance(value, int) else None,
                    business_days=value.get("business_days") if isinstance(value, dict) else None,
                    calendar=spec.get("calendar") or data.get("calendar") or "always",
                )
            )
    return SlaPolicy(
        key=data["key"],
        applies_when=data["applies_when"],
        calendar=data.get("calendar"),
        targets=targets,
        pause_when_status=[TicketStatus(s) for s in data.get("pause_when_status") or []],
        warn_at_percent=int(data.get("warn_at") or 75),
    )


@strawberry.type
class SlaPolicyQuery:
    @strawberry.field(description="The SLA policy set in force; null before any is deployed.")
    async def sla_policy_set(self) -> SlaPolicySet | None:
        row = await policy_set_in_force()
        if row is None:
            return None
        return SlaPolicySet(
            version=row.number,
            deployed_at=row.created_at,
            deployed_by=row.created_by,
            policies=[_policy(item) for item in row.definition.get("policies") or []],
        )
