"""Defences of the public API: query limits, cost analysis, request ids and rate limits.

Each piece is either a Strawberry schema extension (limits, cost) or a plain ASGI middleware
(request ids, rate limits), so ``app.main`` composes them and tests can exercise each alone.
"""
