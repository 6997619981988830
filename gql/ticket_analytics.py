"""Service-desk statistics: how long solving tickets takes."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from domain.tickets.statistics import ResolutionGroup, resolution_times
from gql.context import Context
from gql.dataloaders import load
from gql.enums import TicketPriority
from gql.types.staff import Team, User

Info = strawberry.Info[Context, None]


@strawberry.enum
class ResolutionTimeGroupBy(Enum):
    PRIORITY = "priority"
    TEAM = "team"
    AGENT = "agent"


@strawberry.type(description="The values a group shares (only the grouped-by ones are set).")
class ResolutionTimeKey:
    priority: TicketPriority | None
    team_id: strawberry.Private[int | None]
    agent_id: strawberry.Private[int | None]

    @strawberry.field
    async def team(self, info: Info) -> Team | None:
        return await load(info.context, "Team", self.team_id)

    @strawberry.field(description="The assignee who holds the solved tickets.")
    async def agent(self, info: Info) -> User | None:
        return await load(info.context, "User", self.agent_id)


@strawberry.type(description="Calendar time from creation to solving, in seconds.")
class ResolutionTimeAggregate:
    key: ResolutionTimeKey | None
    count: int
    mean_seconds: float | None
    median_seconds: float | None
    p90_seconds: float | None = strawberry.field(
        description="90th percentile, interpolated between the nearest ranks."
    )


@strawberry.type
class ResolutionTimeStats:
    total: ResolutionTimeAggregate
    groups: list[ResolutionTimeAggregate]


def _aggregate(group: ResolutionGroup, *, grouped: bool) -> ResolutionTimeAggregate:
    priority = group.key.get("priority")
    key = (
        ResolutionTimeKey(
            priority=TicketPriority(priority) if priority else None,
            team_id=group.key.get("team"),
            agent_id=group.key.get("agent"),
        )
        if grouped
        else None
    )
    return ResolutionTimeAggregate(
        key=key,
        count=group.count,
        mean_seconds=group.mean_seconds,
        median_seconds=group.median_seconds,
        p90_seconds=group.p90_seconds,
    )


@strawberry.type
class TicketAnalyticsQuery:
    @strawberry.field(
        description="Resolution time of tickets solved in [from, to): count, mean, median, p90."
    )
    async def resolution_time(
        self,
        info: Info,
        from_: Annotated[dt.datetime | None, strawberry.argument(name="from")] = None,
        to: dt.datetime | None = None,
        group_by: list[ResolutionTimeGroupBy] | None = None,
    ) -> ResolutionTimeStats:
        total, groups = await resolution_times(
            start=from_,
            end=to,
            group_by=[g.value for g in group_by or []],
            scope=info.context.scope,
        )
        return ResolutionTimeStats(
            total=_aggregate(total, grouped=False),
            groups=[_aggregate(g, grouped=True) for g in groups],
        )
