"""The permission matrix, as data: what each role may read, create, update and delete, and which
fields it sees masked.

``docs/permissions.md`` is generated from this module (``crm docs permissions``) and a test fails
when the two differ. The API declares, for every query and mutation, which of these operations it
performs (``gql/permissions.py``); record scope (which rows of a readable type) is
:mod:`domain.identity.scope`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from domain.errors import PermissionDenied, Unauthenticated
from domain.identity.principal import Principal

Operation = Literal["read", "create", "update", "delete"]
OPERATIONS: tuple[Operation, ...] = ("read", "create", "update", "delete")
_LETTER: dict[str, Operation] = {"R": "read", "C": "create", "U": "update", "D": "delete"}

ROLES = ("ADMIN", "MANAGER", "SALES", "SUPPORT", "MARKETING", "ANALYST")

#: The types permissions are granted on. Person and Organization are "Customer"; stages go with
#: their pipeline; stage changes with their opportunity; a ticket's SLA clocks with the ticket.
#: "SlaPolicy" is the deployed SLA policy set (deployed by ``deployWorkflow`` files that define
#: ``sla_policies``).
RESOURCES = (
    "Customer",
    "Relationship",
    "AttributeDefinition",
    "Opportunity",
    "Pipeline",
    "Interaction",
    "Task",
    "User",
    "Team",
    "Workflow",
    "WorkflowRun",
    "AuditEntry",
    "ApiKey",
    "Ticket",
    "TicketComment",
    "SlaPolicy",
    # The engine's health (timers, queues, outboxes): administrators only.
    "Operations",
)

#: Role -> resource -> the letters of the operations granted (C, R, U, D). Absent means none.
MATRIX: Mapping[str, Mapping[str, str]] = {
    "ADMIN": {resource: "CRUD" for resource in RESOURCES},
    "MANAGER": {
        "Customer": "CRUD",
        "Relationship": "CRUD",
        "AttributeDefinition": "R",
        "Opportunity": "CRUD",
        "Pipeline": "R",
        "Interaction": "CRUD",
        "Task": "CRUD",
        "User": "R",
        "Team": "R",
        "Workflow": "R",
        "WorkflowRun": "CRU",
        # Managers supervise their teams' desk: reassign, reprioritise, add notes.
        "Ticket": "RU",
        "TicketComment": "CR",
        "SlaPolicy": "R",
    },
    "SALES": {
        "Customer": "CRU",
        "Relationship": "CRU",
        "AttributeDefinition": "R",
        "Opportunity": "CRU",
        "Pipeline": "R",
        "Interaction": "CRU",
        "Task": "CRU",
        "User": "R",
        "Team": "R",
        "Workflow": "R",
        "WorkflowRun": "R",
        # A salesperson opens tickets for their customers and follows them; the desk works them.
        "Ticket": "CR",
        "TicketComment": "R",
    },
    "SUPPORT": {
        "Customer": "RU",
        "Relationship": "R",
        "AttributeDefinition": "R",
        "Interaction": "CRU",
        "Task": "CRU",
        "User": "R",
        "Team": "R",
        "Ticket": "CRU",
        "TicketComment": "CRU",
        "SlaPolicy": "R",
    },
    "MARKETING": {
        "Customer": "CRU",
        "Relationship": "R",
        "AttributeDefinition": "CRU",
        "Opportunity": "R",
        "Pipeline": "R",
        "Interaction": "R",
        "User": "R",
        "Team": "R",
        "Workflow": "CRUD",
        "WorkflowRun": "CRUD",
    },
    "ANALYST": {
        "Customer": "R",
        "Relationship": "R",
        "AttributeDefinition": "R",
        "Opportunity": "R",
        "Pipeline": "R",
        "Interaction": "R",
        "Task": "R",
        "User": "R",
        "Team": "R",
        "Workflow": "R",
        "WorkflowRun": "R",
        "Ticket": "R",
        "TicketComment": "R",
        "SlaPolicy": "R",
    },
}


@dataclass(frozen=True)
class Mask:
    """Fields of one GraphQL type a role reads masked (null; an empty list or object for list
    and JSON fields), and
    the filter/order fields it may not use (they would reveal the masked values by probing)."""

    fields: tuple[str, ...]
    filters: tuple[str, ...] = ()


_CUSTOMER_CONTACT = Mask(
    fields=("primaryEmail", "emails", "primaryPhone", "phones", "address"),
    filters=("email", "phone"),
)

#: Role -> GraphQL type -> mask. Analysts work on aggregates: no way to reach a person.
MASKS: Mapping[str, Mapping[str, Mask]] = {
    "ANALYST": {
        "Customer": _CUSTOMER_CONTACT,
        "Person": _CUSTOMER_CONTACT,
        "Organization": _CUSTOMER_CONTACT,
        "Interaction": Mask(fields=("body",)),
        # What customers wrote and what staff answered: aggregates need neither.
        "TicketComment": Mask(fields=("body",)),
        # A customer's audited changes carry the old and new e-mails, phones and addresses.
        "CustomerChange": Mask(fields=("changes",)),
    },
}

#: API-key scopes are ``<operation>:<resource>``; ``*`` stands for any operation or resource.
WILDCARD = "*"


def role_allows(role: str | None, operation: Operation, resource: str) -> bool:
    if role is None:
        return False
    letters = MATRIX.get(role, {}).get(resource, "")
    return any(_LETTER[letter] == operation for letter in letters)


def scope_allows(scopes: frozenset[str], operation: Operation, resource: str) -> bool:
    return bool(
        {
            f"{operation}:{resource}",
            f"{operation}:{WILDCARD}",
            f"{WILDCARD}:{resource}",
            f"{WILDCARD}:{WILDCARD}",
        }
        & scopes
    )


def allows(principal: Principal, operation: Operation, resource: str) -> bool:
    """Whether ``principal`` may perform ``operation`` on ``resource`` records at all (which
    records is record scope's business)."""
    if principal.kind == "apikey":
        return scope_allows(principal.scopes, operation, resource)
    return role_allows(principal.role, operation, resource)


def require(principal: Principal, operation: Operation, resource: str) -> None:
    """Raise :class:`Unauthenticated` for nobody, :class:`PermissionDenied` when not allowed."""
    if not principal.authenticated:
        raise Unauthenticated("authentication required")
    if not allows(principal, operation, resource):
        raise PermissionDenied(f"{principal.role or principal.kind} may not {operation} {resource}")


def masked_fields(principal: Principal, graphql_type: str) -> tuple[str, ...]:
    mask = MASKS.get(principal.role or "", {}).get(graphql_type)
    return mask.fields if mask else ()


def forbidden_filters(principal: Principal, graphql_type: str) -> tuple[str, ...]:
    mask = MASKS.get(principal.role or "", {}).get(graphql_type)
    return mask.filters if mask else ()


def valid_scope(scope: str) -> bool:
    operation, _, resource = scope.partition(":")
    return (operation in OPERATIONS or operation == WILDCARD) and (
        resource in RESOURCES or resource == WILDCARD
    )
