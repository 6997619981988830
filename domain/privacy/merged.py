"""The customers a personal data request covers: one and every customer merged into it."""

from __future__ import annotations

from domain.persistence.models import Customer


async def with_merged(customer: Customer) -> list[Customer]:
    """The customer and every customer merged into it, at any depth."""
    found = [customer]
    frontier = [customer.id]
    while frontier:
        merged = await Customer.filter(merged_into_id__in=frontier)
        found += merged
        frontier = [c.id for c in merged]
    return found
