"""Finding a customer's personal data in free text and JSON, and replacing it.

Personal values are copied beyond the customer's own row: into audit before/after values, event
payloads, task titles rendered by workflows ("Follow-up with Nguyễn Văn An"), e-mails, a run's
remembered event. :class:`Identifiers` is what identifies the person; :meth:`Identifiers.redact`
replaces every string that mentions one of them, matched on whole words of the folded text
(accent- and case-insensitive), and phone numbers on their last nine digits (local and
international forms alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from domain.persistence.models import Customer
from domain.text import fold

ERASED = "[erased]"
#: Columns of a customer that identify the person or organization, erased on request.
PERSONAL_COLUMNS = (
    "display_name",
    "first_name",
    "last_name",
    "job_title",
    "legal_name",
    "domain",
    "tax_code",
    "primary_email",
    "emails",
    "primary_phone",
    "phones",
    "address",
    "attributes",
)
_PHONE_DIGITS = 9


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def _identifying(word: str) -> bool:
    """Short numbers (a postal code, a house number) would erase amounts and counts that
    happen to be equal; phones are matched on their own, tax codes are long enough."""
    return not word.isdigit() or len(word) >= 8


@dataclass(frozen=True)
class Identifiers:
    words: frozenset[str]  # folded names, addresses, e-mails, domains, tax codes
    phones: frozenset[str]  # last nine digits

    @classmethod
    def of(cls, customers: Iterable[Customer]) -> Identifiers:
        words: set[str] = set()
        phones: set[str] = set()
        for c in customers:
            texts = [c.display_name, c.first_name, c.last_name, c.legal_name, c.domain, c.tax_code]
            texts += [e.get("address") for e in c.emails or []] + [c.primary_email]
            texts += [v for v in (c.address or {}).values() if isinstance(v, str)]
            words.update(f for f in (fold(t) for t in texts if t) if f and _identifying(f))
            numbers = [p.get("number") or "" for p in c.phones or []] + [c.primary_phone or ""]
            phones.update(d[-_PHONE_DIGITS:] for d in map(_digits, numbers) if len(d) >= 6)
        return cls(frozenset(words), frozenset(phones))

    @cached_property
    def _pattern(self) -> re.Pattern[str] | None:
        if not self.words:
            return None
        alternatives = sorted(self.words, key=len, reverse=True)
        return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, alternatives)) + r")(?!\w)")

    def mentioned_in(self, text: str | None) -> bool:
        if not text:
            return False
        pattern = self._pattern
        if pattern is not None and pattern.search(fold(text) or ""):
            return True
        digits = _digits(text)
        return any(phone in digits for phone in self.phones)

    def redact(self, value: Any) -> Any:
        """``value`` with every string mentioning the person replaced by ``[erased]``."""
        if isinstance(value, str):
            return ERASED if self.mentioned_in(value) else value
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        if isinstance(value, dict):
            return {k: self.redact(v) for k, v in value.items()}
        return value


def erase_changes(changes: dict[str, Any], identifiers: Identifiers) -> dict[str, Any]:
    """An audit diff with the values of personal columns erased (which fields changed stays)."""
    return {
        key: [ERASED if v not in (None, "", [], {}) else v for v in pair]
        if key in PERSONAL_COLUMNS and isinstance(pair, list)
        else identifiers.redact(pair)
        for key, pair in changes.items()
    }
