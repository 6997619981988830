"""The schema: every query, mutation and type of the API, assembled."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig


@strawberry.type
class Query:
    @strawberry.field(description="Always true: lets clients check the API answers.")
    def ok(self) -> bool:
        return True


schema = strawberry.Schema(query=Query, config=StrawberryConfig(relay_max_results=100))
