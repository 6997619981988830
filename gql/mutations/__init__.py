"""Mutations, one module per area; each returns its success type or a typed error."""
