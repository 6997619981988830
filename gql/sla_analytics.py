"""SLA compliance report: share met, median and p90 achieved business time, breaches."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from domain.sla.compliance import ComplianceGroup, sla_compliance
from gql.context import Context
from gql.dataloaders import load
from gql.enums import TicketPriority
from gql.types.sla import SlaMetricKind
from gql.types.staff import Team, User

Info = strawberry.Info[Context, None]


@strawberry.enum
class SlaComplianceGroupBy(Enum):
    POLICY = "policy"
    TEAM = "team"
    AGENT = "agent"
    PRIORITY = "priority"
    METRIC = "metric"


@strawberry.type(description="The values a group shares (only the grouped-by ones are set).")
class SlaComplianceKey:
    policy: str | None
    priority: TicketPriority | None
    metric: SlaMetricKind | None
    team_id: strawberry.Private[int | None]
    agent_id: strawberry.Private[int | None]

    @strawberry.field
    async def team(self, info: Info) -> Team | None:
        return await load(info.context, "Team", self.team_id)

    @strawberry.field(description="The ticket's assignee.")
    async def agent(self, info: Info) -> User | None:
        return await load(info.context, "User", self.agent_id)


@strawberry.type(
    description="SLA metric instances started in the period: met (fulfilled in time), breached "
    "(due instant passed), the share met of those decided, and the business time achieved by "
    "the fulfilled ones, in seconds."
)
class SlaComplianceAggregate:
    key: SlaComplianceKey | None
    instances: int
    met: int
    breaches: int
    share_met: float | None = strawberry.field(
        description="met / (met + breaches); null when none is decided yet."
    )
    median_achieved_seconds: float | None
    p90_achieved_seconds: float | None


@strawberry.type
class SlaComplianceStats:
    total: SlaComplianceAggregate
    groups: list[SlaComplianceAggregate]


def _aggregate(group: ComplianceGroup, *, grouped: bool) -> SlaComplianceAggregate:
    key = None
    if grouped:
        priority, metric = group.key.get("priority"), group.key.get("metric")
        key = SlaComplianceKey(
            policy=group.key.get("policy"),
            priority=TicketPriority(priority) if priority else None,
            metric=SlaMetricKind(metric) if metric else None,
            team_id=group.key.get("team"),
            agent_id=group.key.get("agent"),
        )
    return SlaComplianceAggregate(
        key=key,
        instances=group.instances,
        met=group.met,
        breaches=group.breached,
        share_met=group.share_met,
        median_achieved_seconds=group.median_achieved_seconds,
        p90_achieved_seconds=group.p90_achieved_seconds,
    )


@strawberry.type
class SlaAnalyticsQuery:
    @strawberry.field(
        description="SLA compliance of the metric instances started in [from, to), overall and "
        "per group."
    )
    async def sla_compliance(
        self,
        info: Info,
        from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
        to: dt.datetime | None = None,
        group_by: list[SlaComplianceGroupBy] | None = None,
        metric: SlaMetricKind | None = None,
    ) -> SlaComplianceStats:
        total, groups = await sla_compliance(
            start=from_,
            end=to,
            group_by=[g.value for g in group_by or []],
            metric=metric.value if metric else None,
            scope=info.context.scope,
        )
        return SlaComplianceStats(
            total=_aggregate(total, grouped=False),
            groups=[_aggregate(g, grouped=True) for g in groups],
        )
