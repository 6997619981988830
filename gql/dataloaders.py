"""Request-scoped DataLoaders: records by id, and pages of children for many parents.

Every relation a resolver follows goes through one of these, so a request costs one statement
per relation and nesting level whatever the page size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from domain.persistence import models as m
from domain.persistence.querying.compile import SqlParams
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import (
    Query,
    fetch_pages_per_parent,
    run,
    run_sql,
)
from domain.persistence.querying.rows import instance_from_row
from domain.persistence.querying.spec import Page, PageResult
from gql.context import Context

_MODELS: dict[str, type[Model]] = {
    "Customer": m.Customer,
    "User": m.User,
    "Team": m.Team,
    "Pipeline": m.Pipeline,
    "Stage": m.Stage,
    "Opportunity": m.Opportunity,
    "Interaction": m.Interaction,
    "Task": m.Task,
    "Relationship": m.Relationship,
    "StageChange": m.StageChange,
    "Ticket": m.Ticket,
    "TicketComment": m.TicketComment,
    "Workflow": m.Workflow,
    "WorkflowVersion": m.WorkflowVersion,
    "WorkflowRun": m.WorkflowRun,
}


def by_id(context: Context, entity: str) -> DataLoader[int, Any]:
    """Live records of ``entity`` by primary key, as the request's principal sees them (None for
    missing, soft-deleted and out-of-scope ones alike)."""
    model = _MODELS[entity]
    table = model._meta.db_table
    in_scope = context.scope.condition(entity, "x")

    async def batch(keys: Sequence[int]) -> list[Any]:
        params = SqlParams()
        marks = ", ".join(params.add(int(k)) for k in keys)
        if entity == "User":
            # Users are almost always shown with their team: fetch both in one statement.
            rows = await run_sql(m.User, _users_with_teams(marks, in_scope), params)
            found = {}
            teams = by_id(context, "Team")
            for row in rows:
                user = instance_from_row(m.User, row)
                found[user.pk] = user
                # Primed only when the principal sees every team (else the team loader decides).
                if row["t__id"] is not None and context.scope.condition("Team", "t") is None:
                    team = instance_from_row(
                        m.Team, {k[3:]: v for k, v in row.items() if k.startswith("t__")}
                    )
                    teams.prime(team.pk, None if getattr(team, "deleted_at", None) else team)
            return [found.get(k) for k in keys]
        live = " AND x.deleted_at IS NULL" if "deleted_at" in model._meta.fields_map else ""
        if in_scope is not None:
            live += f" AND {in_scope}"
        sql = f"SELECT x.* FROM {table} x WHERE x.id IN ({marks}){live}"
        found = {
            row["id"]: instance_from_row(model, row) for row in await run_sql(model, sql, params)
        }
        return [found.get(k) for k in keys]

    return context.loaders.get(("by_id", entity), batch)


def _users_with_teams(marks: str, in_scope: str | None) -> str:
    # Built per call: Tortoise only knows a model's foreign-key columns once it is initialised.
    team_columns = ", ".join(f"t.{c} AS t__{c}" for c in m.Team._meta.fields_db_projection.values())
    return (
        f"SELECT x.*, {team_columns} FROM users x LEFT JOIN teams t ON t.id = x.team_id"
        f" WHERE x.id IN ({marks}) AND x.deleted_at IS NULL"
        + (f" AND {in_scope}" if in_scope is not None else "")
    )


async def load(context: Context, entity: str, pk: int | None) -> Any:
    if pk is None:
        return None
    return await by_id(context, entity).load(pk)


def children(
    context: Context, query: Query, parent_column: str, page: Page
) -> DataLoader[int, PageResult]:
    """The same page of ``query`` rows for each parent id, batched into one windowed query."""

    async def batch(keys: Sequence[int]) -> list[PageResult]:
        pages = await fetch_pages_per_parent(query, parent_column, list(keys), page)
        return [pages[k] for k in keys]

    key = (
        "children",
        query.entity.name,
        parent_column,
        repr(query.filter),
        query.order,
        query.restriction,
        page,
    )
    return context.loaders.get(key, batch)


__all__ = ["ENTITIES", "by_id", "children", "load"]


def all_children(
    context: Context, entity: str, parent_field: str, order: tuple[str, ...]
) -> DataLoader[int, list[Any]]:
    """Every live child of each parent (for small, bounded lists such as a pipeline's stages)."""
    model = _MODELS.get(entity) or getattr(m, entity)

    async def batch(keys: Sequence[int]) -> list[list[Any]]:
        filters: dict[str, Any] = {f"{parent_field}__in": list(keys)}
        if "deleted_at" in model._meta.fields_map:
            filters["deleted_at__isnull"] = True
        grouped: dict[int, list[Any]] = {k: [] for k in keys}
        for row in await model.filter(**filters).order_by(*order):
            grouped[getattr(row, parent_field)].append(row)
        return [grouped[k] for k in keys]

    return context.loaders.get(("all_children", entity, parent_field, order), batch)


def memberships(context: Context, *, of: str) -> DataLoader[int, list[Any]]:
    """Team membership in either direction: ``of="team"`` loads each team's members,
    ``of="user"`` each user's teams; one joined statement per batch."""
    mine, other, entity = (
        ("team_id", "users_id", "User") if of == "team" else ("users_id", "team_id", "Team")
    )
    spec = ENTITIES[entity]
    in_scope = context.scope.condition(entity, "x")
    restriction = "" if in_scope is None else f" AND {in_scope}"

    async def batch(keys: Sequence[int]) -> list[list[Any]]:
        params = SqlParams()
        marks = ", ".join(params.add(int(k)) for k in keys)
        sql = (
            f"SELECT x.*, tm.{mine} AS _owner FROM team_memberships tm "
            f"JOIN {spec.table} x ON x.id = tm.{other} "
            f"WHERE tm.{mine} IN ({marks}) AND x.deleted_at IS NULL{restriction} "
            "ORDER BY x.name, x.id"
        )
        grouped: dict[int, list[Any]] = {k: [] for k in keys}
        for row in await run(spec, sql, params):
            grouped[int(row["_owner"])].append(instance_from_row(spec.model, row))
        return [grouped[k] for k in keys]

    return context.loaders.get(("memberships", of), batch)
