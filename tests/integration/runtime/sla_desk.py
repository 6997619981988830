"""The shipped definitions, deployed as ``crm dev`` deploys them, for the SLA runtime tests."""

from __future__ import annotations

from workflows.language.validate import BUNDLED_DIR

SHIPPED = {p.name: p.read_text(encoding="utf-8") for p in sorted(BUNDLED_DIR.glob("*.yaml"))}
