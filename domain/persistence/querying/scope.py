"""Record scope as the querying layer sees it: one trusted SQL condition per entity.

Every statement this package builds (pages, counts, per-parent windows, relation filters,
search, aggregates, timelines) adds the condition of each entity it reads, so a record out of
scope never leaves the database: it is indistinguishable from a missing one. What the conditions
are (who sees what) is decided in :mod:`domain.identity.scope`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.errors import PermissionDenied


@dataclass(frozen=True)
class Scope:
    """``conditions`` maps an entity name to SQL on the alias ``{a}`` (absent: every row).

    The SQL is trusted: built from integers the server computed, never from client input.
    ``hidden_fields`` maps an entity name to fields its reader sees masked: filtering or
    ordering on them would reveal the values, so it is refused.
    """

    conditions: Mapping[str, str] = field(default_factory=dict)
    hidden_fields: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def check_field(self, entity: str, name: str) -> None:
        if name in self.hidden_fields.get(entity, ()):
            raise PermissionDenied(f"{entity}.{name} is masked for you: it cannot be filtered")

    def condition(self, entity: str, alias: str) -> str | None:
        sql = self.conditions.get(entity)
        return None if sql is None else sql.format(a=alias)

    def key(self) -> tuple[tuple[str, str], ...]:
        """Hashable identity, for caches keyed by what a query sees."""
        return tuple(sorted(self.conditions.items())) + tuple(
            (name, ",".join(sorted(fields))) for name, fields in sorted(self.hidden_fields.items())
        )


#: No restriction: trusted in-process callers (CLI, workflow actions, admins).
EVERYTHING = Scope()
