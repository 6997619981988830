"""``docs/permissions.md``, rendered from the permission data so the two cannot drift.

``crm export-permissions docs/permissions.md`` writes it; a test fails when the committed file
differs from what this renders.
"""

from __future__ import annotations

from domain.identity.permissions import MASKS, MATRIX, OPERATIONS, RESOURCES, ROLES
from domain.identity.scope import CUSTOMERS_VIA, TEAM_ROLES, UNSCOPED_ROLES
from gql.permissions import MUTATION_PERMISSIONS, PUBLIC_FIELDS, QUERY_PERMISSIONS, ROOTS

_INTRO = """\
# Permissions

Generated from `domain/identity/permissions.py`, `domain/identity/scope.py` and
`gql/permissions.py` by `crm export-permissions docs/permissions.md`; a test fails when this file
and the code differ. Three layers decide what a request may do:

1. **Authentication**: `Authorization: Bearer <token>` with an access token from `login` /
   `refreshSession`, or an API key (`rk_...`). Missing credentials: only `login` and
   `refreshSession` answer; everything else is an `UNAUTHENTICATED` error (HTTP 401). Expired,
   revoked, forged or malformed credentials: HTTP 401 with
   `{"errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]}` before any GraphQL runs.
2. **The matrix** below: which operations a role may perform on each type. Every query, mutation
   and subscription declares the operations it performs (last section); a field without a
   declaration cannot be added (the schema refuses to build). A denied query field is a GraphQL
   error with code `PERMISSION_DENIED`; a denied mutation answers `PermissionDeniedError`.
3. **Record scope**: which rows of a readable type the principal sees. It is compiled into the
   SQL of every list, count, nested connection, relation filter, `node`/`nodes`, `search`,
   aggregate/`groupBy` and timeline, so a record out of scope is indistinguishable from a missing
   one: `node` answers null, lists and counts leave it out, and a mutation naming it (any global
   id in its input) answers `NotFoundError`.
"""


def _customers_via(role: str) -> str:
    via = CUSTOMERS_VIA.get(role, ())
    return ", ".join(entity for entity, _ in via) or "nothing"


def _scope_section() -> list[str]:
    rows = {
        "ADMIN": "every record",
        "MANAGER": "customers and deals owned by, and tasks assigned to, themselves or a member "
        "of a team they belong to or lead; tickets of those teams or assigned to a member, and "
        f"their customers (through {_customers_via('MANAGER')}); those customers' interactions; "
        "relationships whose both ends they see; workflow runs whose subject (customer, deal or "
        "ticket) they see; every comment of the tickets they see, internal notes included",
        "SALES": "the same rule over the teams they belong to (what they or their team own); "
        "the tickets of the customers they see, with their public comments only (no internal "
        "notes)",
        "SUPPORT": "tasks assigned within their teams; tickets of their teams, assigned to a "
        "member of their teams, or unrouted (no team and no assignee: the triage queue), with "
        "all their comments; the customers of those tickets "
        f"(through {_customers_via('SUPPORT')}) and those customers' interactions",
        "MARKETING": "every record of the types it may read (segments span the whole base)",
        "ANALYST": "every record of the types it may read, contact data and comment bodies "
        "masked (above); `resolutionTime` and `slaCompliance` over every ticket",
        "API key": "every record of the types its scopes allow",
    }
    lines = ["## Record scope", "", "| principal | sees |", "|---|---|"]
    lines += [f"| {who} | {what} |" for who, what in rows.items()]
    lines += [
        "",
        f"Unscoped roles: {', '.join(sorted(UNSCOPED_ROLES))}. "
        f"Customers by team ownership: {', '.join(sorted(TEAM_ROLES))}.",
        "A type a principal may not read is empty for it everywhere (SUPPORT's",
        "`customer.opportunities`, say). Workflow actions run as the workflow's system actor",
        "(`workflow:run:<id>:step:<step>`), unscoped. Users, teams and pipelines are not",
        "record-scoped. `resolutionTime` and `slaCompliance` count only the tickets (and their",
        "SLA clocks) the reader sees. Deploying files that define `sla_policies` with",
        "`deployWorkflow` also needs create on SlaPolicy (ADMIN only): what the desk promises",
        "customers is not a workflow author's call.",
        "",
    ]
    return lines


_KEYS = """\
## API keys

Created by an admin (`createApiKey`) with a name, scopes and an optional expiry; the secret is in
that answer only and stored as a SHA-256 hash behind a public prefix. A scope is
`<operation>:<type>` (`read:Customer`, `create:Task`), `*` standing for any operation or type
(`read:*`, `*:Customer`). An API key has no role: its scopes replace the matrix, and it sees every
record of the types it may read. Its last use is recorded to the minute.
"""


def _letters(role: str, resource: str) -> str:
    granted = MATRIX.get(role, {}).get(resource, "")
    return "".join(letter for letter in "CRUD" if letter in granted) or "-"


def _requirement(field: str, requirements: tuple[tuple[str, str], ...]) -> str:
    if field in PUBLIC_FIELDS:
        return "public"
    if not requirements:
        return "any authenticated principal (scope applies)"
    return ", ".join(f"{operation} {resource}" for operation, resource in requirements)


def render_permissions() -> str:
    lines = [_INTRO, "## Matrix", ""]
    lines.append(
        f"C = create, R = read, U = update, D = delete ({', '.join(OPERATIONS)}); - = nothing."
    )
    lines.append("")
    lines.append("| type | " + " | ".join(ROLES) + " |")
    lines.append("|---|" + "---|" * len(ROLES))
    for resource in RESOURCES:
        cells = " | ".join(_letters(role, resource) for role in ROLES)
        lines.append(f"| {resource} | {cells} |")
    lines += ["", "## Masked fields", ""]
    lines.append(
        "A masked field reads as null (an empty list or object for list and JSON fields, `***` "
        "for a non-null text field such as `TicketComment.body`); "
        "filtering or ordering on "
        "the matching filter fields is refused with `PERMISSION_DENIED` (it would reveal the "
        "values), and `search` matches only names and domains."
    )
    lines += ["", "| role | type | masked fields | refused filters |", "|---|---|---|---|"]
    for role, by_type in MASKS.items():
        for type_name, mask in by_type.items():
            lines.append(
                f"| {role} | {type_name} | {', '.join(mask.fields)} | "
                f"{', '.join(mask.filters) or '-'} |"
            )
    lines += ["", *_scope_section(), _KEYS, "## Operations", ""]
    for root, registry in ROOTS.items():
        lines += [f"### {root}", "", "| field | needs |", "|---|---|"]
        for field in sorted(registry):
            lines.append(f"| `{field}` | {_requirement(field, registry[field])} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


__all__ = ["MUTATION_PERMISSIONS", "QUERY_PERMISSIONS", "render_permissions"]
