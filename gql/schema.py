"""The schema: every query, mutation and type of the API, assembled."""

from __future__ import annotations

import strawberry
from graphql.error import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.execution import ExecutionContext

from gql.analytics import AnalyticsQuery
from gql.errors import PublicErrors, log_unexpected
from gql.fields import install_fast_resolvers
from gql.mutations.activities import ActivityMutations
from gql.mutations.attributes import AttributeMutations, AttributeQuery
from gql.mutations.bulk import BulkMutations
from gql.mutations.customers import CustomerMutations
from gql.mutations.relationships import RelationshipMutations
from gql.mutations.results import ERROR_TYPES
from gql.mutations.sales import SalesMutations
from gql.mutations.staff import StaffMutations
from gql.queries import Query as ListQuery
from gql.types.customers import Organization, Person
from gql.types.sales import Stage, StageChange


class RapportSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_unexpected(errors, execution_context)


Query = merge_types("Query", (ListQuery, AnalyticsQuery, AttributeQuery))
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
    ),
)

schema = RapportSchema(
    query=Query,
    mutation=Mutation,
    types=[Person, Organization, Stage, StageChange, *ERROR_TYPES],
    extensions=[PublicErrors],
    config=StrawberryConfig(relay_max_results=100),
)
install_fast_resolvers(schema)
