"""Every query and mutation declares what it does in the permission matrix; nothing else runs.

:data:`QUERY_PERMISSIONS` and :data:`MUTATION_PERMISSIONS` map each root field to the
``(operation, resource)`` pairs of :mod:`domain.identity.permissions` it needs (an empty
tuple: any authenticated principal; :data:`PUBLIC_FIELDS` need none).
:func:`install_permissions` wraps the root fields of the built schema with that check and
refuses to build a schema with an undeclared root field, so a new query or mutation cannot ship
unguarded. It also wraps the fields some roles see masked.

Mutations additionally check record scope on their input: every global id in the arguments must
name a record the principal can see (one statement per scoped entity kind), otherwise the
mutation answers ``NotFoundError``, exactly as for a record that does not exist.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLUnionType,
    default_field_resolver,
    get_named_type,
)
from strawberry import Schema

from domain.errors import DomainError, NotFound, PermissionDenied, Unauthenticated
from domain.identity.permissions import MASKS, Operation, masked_fields, require
from domain.persistence.querying.compile import SqlParams
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import run
from gql.context import Context
from gql.ids import STORAGE_OF, decode_id
from gql.mutations.results import NotFoundError, PermissionDeniedError

Requirement = tuple[Operation, str]

#: Root fields anyone may call, without credentials. Every other root field needs an
#: authenticated principal, plus the requirements declared for it (none: any principal).
PUBLIC_FIELDS = frozenset({"login", "refreshSession"})


def _read(resource: str) -> tuple[Requirement, ...]:
    return (("read", resource),)


QUERY_PERMISSIONS: Mapping[str, tuple[Requirement, ...]] = {
    # node/nodes: any authenticated principal; what each returns is limited by record scope
    # (a type the principal may not read is out of scope entirely).
    "node": (),
    "nodes": (),
    "customers": _read("Customer"),
    "people": _read("Customer"),
    "organizations": _read("Customer"),
    "search": _read("Customer"),
    "opportunities": _read("Opportunity"),
    "opportunityStats": _read("Opportunity"),
    "interactions": _read("Interaction"),
    "tasks": _read("Task"),
    "relationships": _read("Relationship"),
    "users": _read("User"),
    "teams": _read("Team"),
    "pipelines": _read("Pipeline"),
    "attributeDefinitions": _read("AttributeDefinition"),
    "workflows": _read("Workflow"),
    "workflow": _read("Workflow"),
    "workflowRuns": _read("WorkflowRun"),
    # Member counts only, no customer: whoever reads the workflows that use segments.
    "segments": _read("Workflow"),
    "engineHealth": _read("Operations"),
    "tickets": _read("Ticket"),
    # Aggregates over tickets (and their SLA clocks), limited to the tickets in scope.
    "resolutionTime": _read("Ticket"),
    "slaCompliance": _read("Ticket"),
    "slaPolicySet": _read("SlaPolicy"),
    "me": (),
    "apiKeys": _read("ApiKey"),
    "auditEntries": _read("AuditEntry"),
    # The export includes the customer's audit trail: administrators only.
    "exportCustomerData": (("read", "Customer"), ("read", "AuditEntry")),
}

MUTATION_PERMISSIONS: Mapping[str, tuple[Requirement, ...]] = {
    "login": (),
    "refreshSession": (),
    "logout": (),
    "createApiKey": (("create", "ApiKey"),),
    "revokeApiKey": (("delete", "ApiKey"),),
    "createPerson": (("create", "Customer"),),
    "updatePerson": (("update", "Customer"),),
    "upsertPerson": (("create", "Customer"), ("update", "Customer")),
    "createOrganization": (("create", "Customer"),),
    "updateOrganization": (("update", "Customer"),),
    "upsertOrganization": (("create", "Customer"), ("update", "Customer")),
    "deleteCustomer": (("delete", "Customer"),),
    "restoreCustomer": (("delete", "Customer"),),
    "mergeCustomers": (("update", "Customer"), ("delete", "Customer")),
    "importCustomers": (("create", "Customer"), ("update", "Customer")),
    "defineAttribute": (("create", "AttributeDefinition"), ("update", "AttributeDefinition")),
    "createRelationship": (("create", "Relationship"),),
    "endRelationship": (("update", "Relationship"),),
    "deleteRelationship": (("delete", "Relationship"),),
    "logInteraction": (("create", "Interaction"),),
    "createTask": (("create", "Task"),),
    "updateTask": (("update", "Task"),),
    "completeTask": (("update", "Task"),),
    "cancelTask": (("update", "Task"),),
    "createOpportunity": (("create", "Opportunity"),),
    "moveOpportunity": (("update", "Opportunity"),),
    "winOpportunity": (("update", "Opportunity"),),
    "loseOpportunity": (("update", "Opportunity"),),
    "reopenOpportunity": (("update", "Opportunity"),),
    "createPipeline": (("create", "Pipeline"),),
    "createUser": (("create", "User"),),
    "createTeam": (("create", "Team"),),
    "addTeamMember": (("update", "Team"),),
    # Files defining sla_policies also need ("create", "SlaPolicy"): checked on what is deployed.
    "deployWorkflow": (("create", "Workflow"), ("update", "Workflow")),
    "pauseWorkflow": (("update", "Workflow"),),
    "resumeWorkflow": (("update", "Workflow"),),
    "enrollInWorkflow": (("create", "WorkflowRun"),),
    "cancelWorkflowRun": (("update", "WorkflowRun"),),
    "retryWorkflowRun": (("update", "WorkflowRun"),),
    "migrateWorkflowRuns": (("update", "Workflow"), ("update", "WorkflowRun")),
    "createTicket": (("create", "Ticket"),),
    # A public reply or a status change with it; an internal note changes nothing on the ticket.
    "replyToTicket": (("create", "TicketComment"), ("update", "Ticket")),
    "addInternalNote": (("create", "TicketComment"),),
    # May reopen the ticket or open a linked follow-up.
    "addCustomerMessage": (
        ("create", "TicketComment"),
        ("update", "Ticket"),
        ("create", "Ticket"),
    ),
    "changeTicketStatus": (("update", "Ticket"),),
    "changeTicketPriority": (("update", "Ticket"),),
    "assignTicket": (("update", "Ticket"),),
    "setTicketTags": (("update", "Ticket"),),
    # Erasure rewrites the audit trail, handover changes users: administrators only.
    "eraseCustomer": (("delete", "Customer"), ("update", "AuditEntry")),
    "deactivateUser": (("update", "User"),),
}

ROOTS: Mapping[str, Mapping[str, tuple[Requirement, ...]]] = {
    "Query": QUERY_PERMISSIONS,
    "Mutation": MUTATION_PERMISSIONS,
    # What a subscription streams is limited by record scope, like node.
    "Subscription": {
        "recordChanged": (),
        "customerChanged": _read("Customer"),
        "timelineUpdated": _read("Customer"),
    },
}


class UndeclaredPermission(RuntimeError):
    """A root field has no entry in the permission registry."""


def _check(context: Context, field_name: str, requirements: tuple[Requirement, ...]) -> None:
    principal = context.principal
    if field_name in PUBLIC_FIELDS:
        return
    if not principal.authenticated:
        raise Unauthenticated("authentication required")
    for operation, resource in requirements:
        require(principal, operation, resource)


def _union_members(field: GraphQLField) -> set[str]:
    named = get_named_type(field.type)
    if isinstance(named, GraphQLUnionType):
        return {t.name for t in named.types}
    return set()


def _id_values(value: Any, graphql_type: Any, found: list[str]) -> None:
    """Collect every ``ID`` value in an argument value, walking input objects and lists."""
    if value is None:
        return
    if isinstance(graphql_type, GraphQLNonNull):
        graphql_type = graphql_type.of_type
    if isinstance(graphql_type, GraphQLList):
        for item in value:
            _id_values(item, graphql_type.of_type, found)
        return
    if isinstance(graphql_type, GraphQLInputObjectType):
        for name, field in graphql_type.fields.items():
            if isinstance(value, Mapping) and name in value:
                _id_values(value[name], field.type, found)
        return
    if getattr(graphql_type, "name", None) == "ID" and isinstance(value, str):
        found.append(value)


async def _invisible_id(
    context: Context, field: GraphQLField, arguments: dict[str, Any]
) -> str | None:
    """The first global id in ``arguments`` naming a record out of the principal's scope."""
    scope = context.scope
    if not scope.conditions:
        return None
    values: list[str] = []
    for name, argument in field.args.items():
        if name in arguments:
            _id_values(arguments[name], argument.type, values)
    wanted: dict[str, dict[int, str]] = defaultdict(dict)
    for value in values:
        try:
            type_name, pk = decode_id(value)
        except DomainError:
            continue  # malformed: the resolver reports it where it belongs
        entity = STORAGE_OF.get(type_name, type_name)
        if scope.condition(type_name, "x") is not None and entity in ENTITIES:
            wanted[type_name][pk] = value
    for type_name, ids in wanted.items():
        spec = ENTITIES[STORAGE_OF.get(type_name, type_name)]
        params = SqlParams()
        marks = ", ".join(params.add(pk) for pk in ids)
        # Deleted rows included: restoring one is the service's business, not scope's.
        sql = (
            f"SELECT x.id FROM {spec.table} x "
            f"WHERE x.id IN ({marks}) AND {scope.condition(type_name, 'x')}"
        )
        seen = {int(row["id"]) for row in await run(spec, sql, params)}
        for pk, value in ids.items():
            if pk not in seen:
                return value
    return None


def _guard_root(
    root_type: str, field_name: str, field: GraphQLField, requirements: tuple[Requirement, ...]
) -> None:
    resolve = field.resolve or default_field_resolver
    members = _union_members(field)
    is_mutation = root_type == "Mutation"

    async def guarded(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        context: Context = info.context
        try:
            _check(context, field_name, requirements)
        except Unauthenticated:
            if context.response is not None:
                context.response.status_code = 401
            raise
        except PermissionDenied as exc:
            if "PermissionDeniedError" in members:
                return PermissionDeniedError(message=exc.message, code=exc.code)
            raise
        if is_mutation:
            hidden = await _invisible_id(context, field, arguments)
            if hidden is not None:
                type_name, pk = decode_id(hidden)
                error = NotFound(STORAGE_OF.get(type_name, type_name), pk)
                if "NotFoundError" in members:
                    return NotFoundError(message=error.message, code=error.code, id=None)
                raise error
        result = resolve(root, info, **arguments)
        return (await result) if inspect.isawaitable(result) else result

    field.resolve = guarded
    if field.subscribe is not None:
        subscribe = field.subscribe

        async def guarded_subscribe(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
            _check(info.context, field_name, requirements)
            stream = subscribe(root, info, **arguments)
            return (await stream) if inspect.isawaitable(stream) else stream

        field.subscribe = guarded_subscribe


def _mask(field_name: str, field: GraphQLField) -> None:
    resolve: Callable[..., Any] = field.resolve or default_field_resolver
    inner = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    if isinstance(inner, GraphQLList):
        masked_value: Any = []
    elif getattr(inner, "name", None) == "JSON":
        masked_value = {}
    elif not isinstance(field.type, GraphQLNonNull):
        masked_value = None
    else:
        masked_value = "***"

    def masked(root: Any, info: GraphQLResolveInfo, **arguments: Any) -> Any:
        if field_name in masked_fields(info.context.principal, info.parent_type.name):
            return masked_value
        return resolve(root, info, **arguments)

    field.resolve = masked


def install_permissions(schema: Schema) -> None:
    """Guard every root field and mask the masked fields of the built ``schema``.

    Raises :class:`UndeclaredPermission` when a root field is missing from the registry.
    """
    type_map = schema._schema.type_map
    for root_type, registry in ROOTS.items():
        graphql_type = type_map.get(root_type)
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        missing = sorted(set(graphql_type.fields) - set(registry))
        if missing:
            raise UndeclaredPermission(
                f"{root_type} fields without a declared permission: {', '.join(missing)} "
                "(declare them in gql/permissions.py)"
            )
        for name, field in graphql_type.fields.items():
            _guard_root(root_type, name, field, registry[name])
    masked_by_type: dict[str, set[str]] = defaultdict(set)
    for by_type in MASKS.values():
        for type_name, mask in by_type.items():
            masked_by_type[type_name].update(mask.fields)
    for type_name, names in masked_by_type.items():
        graphql_type = type_map.get(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for name in names:
            if name in graphql_type.fields:
                _mask(name, graphql_type.fields[name])
