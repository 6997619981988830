"""Stored workflow versions, parsed once per process.

Every transition of a run needs its version's workflow, the resources deployed with it and
its business calendars. Parsing them is pure but not cheap (building a calendar computes its
country's holidays), and a version row never changes once deployed, so the parsed form is
cached here by ``(id, content_hash)``. The hash, not the id alone, is the key because another
database may reuse the id (a test's fresh database, a restored backup): a stale entry is then
simply never hit.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from domain.calendars import BUILTIN_CALENDARS, BusinessCalendar
from domain.persistence import models as m
from workflows.language.spec import Workflow
from workflows.language.validate import Definitions
from workflows.runtime.deploy import version_definitions

#: Versions kept parsed; a deployment has a handful of live versions per workflow.
CACHE_SIZE = 256


@dataclass(frozen=True)
class LoadedVersion:
    id: int
    content_hash: str
    workflow: Workflow
    definitions: Definitions
    calendars: Mapping[str, BusinessCalendar]


_cache: OrderedDict[tuple[int, str], LoadedVersion] = OrderedDict()


def _calendars(definitions: Definitions) -> Mapping[str, BusinessCalendar]:
    calendars = dict(BUILTIN_CALENDARS)
    for key, data in definitions.calendars.items():
        calendars[key] = BusinessCalendar.from_data(key, data)
    return MappingProxyType(calendars)


def _remember(loaded: LoadedVersion) -> LoadedVersion:
    _cache[(loaded.id, loaded.content_hash)] = loaded
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return loaded


def _cached(version_id: int, content_hash: str) -> LoadedVersion | None:
    hit = _cache.get((version_id, content_hash))
    if hit is not None:
        _cache.move_to_end((version_id, content_hash))  # least recently used goes first
    return hit


def loaded_version(version: m.WorkflowVersion) -> LoadedVersion:
    """The parsed form of a version row (from the cache when it was parsed before)."""
    hit = _cached(version.id, version.content_hash)
    if hit is not None:
        return hit
    workflow, definitions = version_definitions(version)
    return _remember(
        LoadedVersion(
            id=version.id,
            content_hash=version.content_hash,
            workflow=workflow,
            definitions=definitions,
            calendars=_calendars(definitions),
        )
    )


async def load_version(version_id: int, content_hash: str | None = None) -> LoadedVersion:
    """The parsed version ``version_id``; with its ``content_hash`` (read along with the run,
    say), a cached version costs no query."""
    hit = _cached(version_id, content_hash) if content_hash is not None else None
    if hit is not None:
        return hit
    return loaded_version(await m.WorkflowVersion.get(id=version_id))
