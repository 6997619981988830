"""What the schema enforces for one deployment: query limits, introspection, suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from strawberry.extensions import AddValidationRules, DisableIntrospection, MaxTokensLimiter

from gql.security.cost import QueryCostLimiter
from gql.security.limits import QueryLimits, shape_rule

#: Generous enough for GraphiQL's introspection query and any test; still refuses explosions.
DEVELOPMENT_LIMITS = QueryLimits(
    max_depth=20, max_aliases=100, max_tokens=20_000, max_cost=1_000_000
)
#: The reference dashboard query (100 customers with deals and interactions) costs ~21,000.
PRODUCTION_LIMITS = QueryLimits(max_depth=15, max_aliases=30, max_tokens=5_000, max_cost=50_000)


@dataclass(frozen=True)
class ApiPolicy:
    limits: QueryLimits = DEVELOPMENT_LIMITS
    introspection: bool = True
    field_suggestions: bool = True


def security_extensions(policy: ApiPolicy) -> list[Any]:
    """Extension factories (one instance per request) enforcing ``policy``."""
    limits = policy.limits
    rules: list[Any] = [shape_rule(limits)]
    extensions: list[Any] = [
        partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
        partial(AddValidationRules, rules),
        partial(QueryCostLimiter, max_cost=limits.max_cost),
    ]
    if not policy.introspection:
        extensions.append(DisableIntrospection)
    return extensions
