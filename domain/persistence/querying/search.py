"""Ranked, accent-insensitive customer search over names, e-mails, phones and domains.

Every query token must occur in the folded ``search_text``; the rank prefers an exact name, then
an exact e-mail/phone/domain, then a name prefix, then a word prefix inside the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.persistence import models as m
from domain.persistence.querying.compile import SqlParams, _like_escape, live_condition
from domain.persistence.querying.entities import ENTITIES
from domain.persistence.querying.fetch import run
from domain.persistence.querying.rows import instance_from_row
from domain.persistence.querying.scope import Scope
from domain.text import fold_required

MAX_TOKENS = 8


@dataclass
class SearchHit:
    score: float
    customer: m.Customer


async def search_customers(text: str, limit: int, scope: Scope) -> list[SearchHit]:
    """Customers in ``scope`` matching ``text``; for a reader who sees e-mails and phones
    masked, only names and domains match (a hit on an address would reveal it)."""
    folded = fold_required(text)
    tokens = [t for t in re.split(r"[\s,;]+", folded) if t][:MAX_TOKENS]
    if not tokens:
        return []
    digits = re.sub(r"\D", "", text)
    entity = ENTITIES["Customer"]
    contact_hidden = bool({"email", "phone"} & scope.hidden_fields.get("Customer", frozenset()))
    params = SqlParams()
    a = params.alias()
    p = params.add
    score = (
        f"(CASE WHEN {a}.display_name_fold = {p(folded)} THEN 100 ELSE 0 END"
        f" + CASE WHEN {'1=0' if contact_hidden else f'{a}.primary_email = {p(folded)}'} "
        f"OR {a}.domain = {p(folded)} "
        "THEN 90 ELSE 0 END"
        f" + CASE WHEN {a}.display_name_fold LIKE {p(_like_escape(folded) + '%')} ESCAPE '\\' "
        "THEN 40 ELSE 0 END"
        f" + CASE WHEN {a}.display_name_fold LIKE {p('% ' + _like_escape(tokens[0]) + '%')} "
        "ESCAPE '\\' THEN 20 ELSE 0 END"
    )
    phone_like = (
        not contact_hidden
        and len(digits) >= 6
        and len(digits) >= len(re.sub(r"[\s+().-]", "", text)) - 1
    )
    if phone_like:
        # Local ("0912...") and international ("+84912...") forms share the last nine digits.
        score += f" + CASE WHEN {a}.primary_phone LIKE {p('%' + digits[-9:])} THEN 80 ELSE 0 END"
    score += " + 1)"
    searched = f"{a}.search_text"
    if contact_hidden:
        searched = f"({a}.display_name_fold || ' ' || COALESCE({a}.domain, ''))"
    matches = [f"{searched} LIKE {p('%' + _like_escape(t) + '%')} ESCAPE '\\'" for t in tokens]
    match = "(" + " AND ".join(matches) + ")"
    if phone_like:
        match = f"({match} OR {a}.search_text LIKE {p('%' + digits[-9:] + '%')})"
    conditions = [live_condition(entity, a, scope), match]
    sql = (
        f"SELECT {a}.*, {score} AS _score FROM {entity.table} {a} "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY _score DESC, {a}.updated_at DESC, {a}.id DESC LIMIT {int(limit)}"
    )
    rows = await run(entity, sql, params)
    hits = []
    for row in rows:
        customer = instance_from_row(m.Customer, row)
        assert isinstance(customer, m.Customer)
        hits.append(SearchHit(float(row["_score"]), customer))
    return hits
