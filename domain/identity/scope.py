"""Record scope: which rows of each entity a principal sees, as a per-entity registry.

Each entry of :data:`RULES` maps an entity (the querying layer's names) to a function of the
principal returning SQL on the alias ``{a}``, or None for "every row". Roles that may not read an
entity's type at all get ``1=0`` for it, so nested connections, ``node`` and relation filters
come back empty rather than leaking. A new entity (tickets, say) plugs in with one entry here
and, to make its customers visible to a role, one entry in :data:`CUSTOMERS_VIA`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from domain.identity.permissions import MASKS, allows
from domain.identity.principal import Principal
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.scope import EVERYTHING, Scope

Rule = Callable[[Principal], str | None]

NOTHING = "1=0"

#: Roles that see every record of the types they may read.
UNSCOPED_ROLES = frozenset({"ADMIN", "MARKETING", "ANALYST"})

#: Roles whose customers are those their teams own (other scoped roles' deals and tasks are also
#: their teams', but their customers come through :data:`CUSTOMERS_VIA`).
TEAM_ROLES = frozenset({"SALES", "MANAGER"})

#: Role -> (entity, customer column) pairs: a customer is visible to the role when a visible
#: record of that entity points at it (for TEAM_ROLES, in addition to the customers their teams
#: own). SUPPORT sees the customers of the tickets it works; a manager also those of their teams'
#: tickets, so a support lead's queue shows who wrote in.
CUSTOMERS_VIA: Mapping[str, tuple[tuple[str, str], ...]] = {
    "SUPPORT": (("Ticket", "customer_id"),),
    "MANAGER": (("Ticket", "customer_id"),),
}

#: Roles that read a ticket's internal notes (the staff working tickets); others that may read
#: ticket comments see only the public conversation.
NOTE_READERS = frozenset({"ADMIN", "MANAGER", "SUPPORT"})

#: The permission resource each queried entity belongs to.
RESOURCE_OF: Mapping[str, str] = {
    "Customer": "Customer",
    "Person": "Customer",
    "Organization": "Customer",
    "Relationship": "Relationship",
    "Opportunity": "Opportunity",
    "StageChange": "Opportunity",
    "Pipeline": "Pipeline",
    "Stage": "Pipeline",
    "Interaction": "Interaction",
    "Task": "Task",
    "User": "User",
    "Team": "Team",
    "Workflow": "Workflow",
    "WorkflowVersion": "Workflow",
    "WorkflowRun": "WorkflowRun",
    "Ticket": "Ticket",
    "TicketComment": "TicketComment",
}


def _ints(values: frozenset[int] | set[int]) -> str:
    return ", ".join(str(int(v)) for v in sorted(values)) or "NULL"


def team_user_ids_sql(principal: Principal) -> str:
    """SQL selecting the principal and every member of the teams they belong to or lead."""
    me = int(principal.user_id or 0)
    teams = _ints(principal.team_ids)
    return (
        f"SELECT tm.users_id FROM team_memberships tm WHERE tm.team_id IN ({teams}) "
        f"UNION SELECT {me}"
    )


def _owned_by_team(column: str) -> Rule:
    def rule(principal: Principal) -> str | None:
        if principal.role in UNSCOPED_ROLES:
            return None
        return f"{{a}}.{column} IN ({team_user_ids_sql(principal)})"

    return rule


def _customer_rule(principal: Principal) -> str | None:
    parts = []
    if principal.role in TEAM_ROLES:
        owned = _owned_by_team("owner_id")(principal)
        if owned is None:
            return None
        parts.append(owned)
    via = CUSTOMERS_VIA.get(principal.role or "")
    if via is None:
        return parts[0] if parts else None
    for entity, column in via:
        table = ENTITIES[entity].table
        condition = RULES[entity](principal) or "1=1"
        parts.append(
            f"{{a}}.id IN (SELECT v.{column} FROM {table} v WHERE {condition.format(a='v')})"
        )
    return "(" + " OR ".join(parts) + ")" if parts else NOTHING


def _via_customer(column: str) -> Rule:
    """Visible when the customer it belongs to is visible."""

    def rule(principal: Principal) -> str | None:
        customer = _customer_rule(principal)
        if customer is None:
            return None
        return f"{{a}}.{column} IN (SELECT c.id FROM customers c WHERE {customer.format(a='c')})"

    return rule


def _ticket_rule(principal: Principal) -> str | None:
    """SUPPORT and MANAGER: their teams' tickets, those assigned to a member of their teams, and
    (SUPPORT) the unrouted ones, no team and no assignee, which the desk triages. SALES: the
    tickets of the customers they see."""
    if principal.role in UNSCOPED_ROLES:
        return None
    if principal.role == "SALES":
        return _via_customer("customer_id")(principal)
    teams = _ints(principal.team_ids)
    mine = f"{{a}}.team_id IN ({teams}) OR {{a}}.assignee_id IN ({team_user_ids_sql(principal)})"
    if principal.role == "SUPPORT":
        mine += " OR ({a}.team_id IS NULL AND {a}.assignee_id IS NULL)"
    return f"({mine})"


def _ticket_comment_rule(principal: Principal) -> str | None:
    """Visible with its ticket; internal notes only to the staff working tickets."""
    ticket = RULES["Ticket"](principal)
    parts = []
    if ticket is not None:
        parts.append(
            f"{{a}}.ticket_id IN (SELECT t.id FROM tickets t WHERE {ticket.format(a='t')})"
        )
    if principal.role not in NOTE_READERS:
        parts.append("{a}.public = TRUE")
    return " AND ".join(parts) if parts else None


def _relationship_rule(principal: Principal) -> str | None:
    ends = [_via_customer(c)(principal) for c in ("from_customer_id", "to_customer_id")]
    present = [e for e in ends if e is not None]
    return " AND ".join(present) if present else None


def _stage_change_rule(principal: Principal) -> str | None:
    deal = RULES["Opportunity"](principal)
    if deal is None:
        return None
    return f"{{a}}.opportunity_id IN (SELECT o.id FROM opportunities o WHERE {deal.format(a='o')})"


def _workflow_run_rule(principal: Principal) -> str | None:
    """Visible when its subject (a customer, a deal or a ticket) is."""
    parts = []
    for subject, table, entity in (
        ("customer", "customers", "Customer"),
        ("opportunity", "opportunities", "Opportunity"),
        ("ticket", "tickets", "Ticket"),
    ):
        condition = RULES[entity](principal)
        if condition is None:
            parts.append(f"{{a}}.subject_type = '{subject}'")
        else:
            parts.append(
                f"({{a}}.subject_type = '{subject}' AND {{a}}.subject_id IN "
                f"(SELECT s.id FROM {table} s WHERE {condition.format(a='s')}))"
            )
    return "(" + " OR ".join(parts) + ")"


RULES: dict[str, Rule] = {
    "Customer": _customer_rule,
    "Person": _customer_rule,
    "Organization": _customer_rule,
    "Opportunity": _owned_by_team("owner_id"),
    "Task": _owned_by_team("assignee_id"),
    "Interaction": _via_customer("customer_id"),
    "Relationship": _relationship_rule,
    "StageChange": _stage_change_rule,
    "WorkflowRun": _workflow_run_rule,
    "Ticket": _ticket_rule,
    "TicketComment": _ticket_comment_rule,
}


def default_owner(principal: Principal) -> int | None:
    """Who owns what a record-scoped user creates without naming an owner: themselves, so that
    a new customer, deal or task does not vanish from their own view. None for everyone else."""
    if principal.kind != "user" or principal.role in UNSCOPED_ROLES:
        return None
    return principal.user_id


def scope_for(principal: Principal) -> Scope:
    """The querying layer's view of what ``principal`` may see.

    API keys and unscoped roles see every row of the types they may read; types a principal may
    not read at all are empty.
    """
    if principal.kind == "system" and principal.role == "ADMIN":
        return EVERYTHING
    hidden = {
        entity: frozenset(mask.filters)
        for entity, mask in MASKS.get(principal.role or "", {}).items()
        if mask.filters and principal.kind == "user"
    }
    conditions: dict[str, str] = {}
    for entity, resource in RESOURCE_OF.items():
        if not allows(principal, "read", resource):
            conditions[entity] = NOTHING
            continue
        if principal.kind == "apikey" or principal.role in UNSCOPED_ROLES:
            continue
        rule = RULES.get(entity)
        condition = rule(principal) if rule else None
        if condition is not None:
            conditions[entity] = condition
    return Scope(conditions, hidden)
