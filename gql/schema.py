"""The schema: every query, mutation and type of the API, assembled."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from gql.queries import Query
from gql.types.customers import Organization, Person
from gql.types.sales import Stage, StageChange

schema = strawberry.Schema(
    query=Query,
    types=[Person, Organization, Stage, StageChange],
    config=StrawberryConfig(relay_max_results=100),
)
