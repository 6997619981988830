"""Read queries over the customer graph: filter trees, keyset paging and per-parent windows.

The API adapter turns its input objects into the plain dataclasses of :mod:`.spec`; this package
turns those into SQL that runs unchanged on SQLite and PostgreSQL.
"""
