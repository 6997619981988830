"""The schema: every query, mutation and type of the API, assembled."""

from __future__ import annotations

from typing import Any

import strawberry
import strawberry.schema.schema as strawberry_schema_module
from graphql.error import GraphQLError
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext
from tortoise.models import Model

from gql.analytics import AnalyticsQuery
from gql.audit import AuditQuery
from gql.errors import PublicErrors, log_unexpected
from gql.fields import install_fast_resolvers
from gql.mutations.activities import ActivityMutations
from gql.mutations.attributes import AttributeMutations, AttributeQuery
from gql.mutations.auth import AuthMutations, AuthQuery
from gql.mutations.bulk import BulkMutations
from gql.mutations.customers import CustomerMutations
from gql.mutations.privacy import PrivacyMutations, PrivacyQuery
from gql.mutations.relationships import RelationshipMutations
from gql.mutations.results import ERROR_TYPES
from gql.mutations.sales import SalesMutations
from gql.mutations.staff import StaffMutations
from gql.mutations.tickets import TicketMutations
from gql.mutations.workflows import WorkflowMutations, WorkflowQuery
from gql.operations import OperationsQuery
from gql.permissions import install_permissions
from gql.queries import Query as ListQuery
from gql.security.policy import ApiPolicy, security_extensions
from gql.sla_analytics import SlaAnalyticsQuery
from gql.subscriptions import Subscription
from gql.ticket_analytics import TicketAnalyticsQuery
from gql.types.customers import Organization, Person
from gql.types.sales import Stage, StageChange
from gql.types.sla_policies import SlaPolicyQuery


def _is_awaitable(value: Any) -> bool:
    """Strawberry's check, except that ORM rows are plain values.

    Tortoise models define ``__await__`` (awaiting one returns itself), so graphql-core would
    treat every row a resolver returns as pending work: a task and a callback per row and
    field, several times the cost of the field itself on a page of customers.
    """
    if type(value) in _PLAIN or isinstance(value, Model):
        return False
    return optimized_is_awaitable(value)


#: Most values graphql-core checks are leaves: answer for them before any isinstance.
_PLAIN = frozenset({type(None), bool, int, float, str, list, dict, tuple})


# Strawberry passes this module-level function to graphql-core's execute(); there is no setting.
strawberry_schema_module.optimized_is_awaitable = _is_awaitable


class RapportSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


Query = merge_types(
    "Query",
    (
        ListQuery,
        AnalyticsQuery,
        TicketAnalyticsQuery,
        SlaAnalyticsQuery,
        SlaPolicyQuery,
        AttributeQuery,
        WorkflowQuery,
        AuditQuery,
        AuthQuery,
        PrivacyQuery,
        OperationsQuery,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        CustomerMutations,
        AttributeMutations,
        BulkMutations,
        RelationshipMutations,
        ActivityMutations,
        SalesMutations,
        StaffMutations,
        TicketMutations,
        AuthMutations,
        WorkflowMutations,
        PrivacyMutations,
    ),
)


def build_schema(*, fast_resolvers: bool = True, policy: ApiPolicy | None = None) -> RapportSchema:
    """The API's schema enforcing ``policy`` (development's by default); ``fast_resolvers=False``
    keeps Strawberry's own resolvers everywhere (the reference the fast path is tested against)."""
    policy = policy or ApiPolicy()
    built = RapportSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Person, Organization, Stage, StageChange, *ERROR_TYPES],
        extensions=[
            PublicErrors,
            *security_extensions(policy),
            # Clients send the same few documents over and over: parse and validate each once.
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
        config=StrawberryConfig(
            relay_max_results=100, disable_field_suggestions=not policy.field_suggestions
        ),
    )
    if fast_resolvers:
        install_fast_resolvers(built)
    # Last: it wraps whatever resolvers the fields ended up with.
    install_permissions(built)
    return built


schema = build_schema()
