"""The service desk: tickets, their conversation and their life cycle (see product.md, sla.md)."""
