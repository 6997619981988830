"""The principal: who a request or job acts as, and what the permission layer needs to know."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PrincipalKind = Literal["user", "apikey", "system", "anonymous"]


@dataclass(frozen=True)
class Principal:
    """An authenticated actor.

    ``role`` drives the permission matrix (:mod:`domain.identity.permissions`); ``user_id``
    and ``team_ids`` (teams they belong to or lead) drive record scope
    (:mod:`domain.identity.scope`). API keys carry ``scopes`` (operations like
    ``read:Customer``) instead of a role's grants. ``actor`` is the string
    stored in ``created_by``/``updated_by`` and the audit trail (``user:12``, ``apikey:3``).
    """

    kind: PrincipalKind
    actor: str
    role: str | None = None
    user_id: int | None = None
    team_ids: frozenset[int] = frozenset()
    scopes: frozenset[str] = frozenset()
    session_id: int | None = None
    api_key_id: int | None = None
    name: str | None = field(default=None, compare=False)

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"


#: Nobody: the principal of a request without credentials (may only log in).
ANONYMOUS = Principal(kind="anonymous", actor="anonymous")

#: Trusted in-process work (CLI, migrations, workflow steps): sees and may do everything.
SYSTEM = Principal(kind="system", actor="system", role="ADMIN")


def trusted(actor: str, role: str = "ADMIN") -> Principal:
    """A principal that is not a logged-in user (tests' default client, workflow runs)."""
    return Principal(kind="system", actor=actor, role=role)
