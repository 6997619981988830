"""Finding the team a workflow step names (``round_robin: TEAM``, ``least_loaded: TEAM``).

Workflows are written by people who know teams by their names, often with Vietnamese accents
("Kinh doanh Hà Nội"), and YAML authors like slugs ("kinh-doanh-ha-noi"). Teams have no slug
column, so both spellings are compared on the folded name the teams table already keeps
(lower case, accents stripped, ``đ`` -> ``d``): first as a name, then as a slug.
"""

from __future__ import annotations

import re

from domain.persistence import models as m
from domain.text import fold_required

__all__ = ["find_team", "team_slug"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def team_slug(name: str) -> str:
    """``"Kinh doanh Hà Nội"`` -> ``"kinh-doanh-ha-noi"``."""
    return _NOT_SLUG.sub("-", fold_required(name)).strip("-")


async def find_team(reference: str) -> m.Team | None:
    """The live team whose name, or whose name as a slug, is `reference` (case- and
    accent-insensitively); the oldest when several match."""
    by_name = (
        await m.Team.filter(name_fold=fold_required(reference), deleted_at=None)
        .order_by("id")
        .first()
    )
    if by_name is not None:
        return by_name
    wanted = team_slug(reference)
    if not wanted:
        return None
    # Teams are few (tens), so comparing slugs in Python is cheaper than a slug column.
    rows = await m.Team.filter(deleted_at=None).order_by("id").values_list("id", "name_fold")
    for team_id, name_fold in rows:
        if team_slug(str(name_fold)) == wanted:
            return await m.Team.get(id=team_id)
    return None
