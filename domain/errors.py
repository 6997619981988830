"""Errors the domain raises on purpose. Adapters map them to typed API errors."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error that is safe to show to a client."""

    code = "DOMAIN_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    code = "INVALID"

    def __init__(self, field: str, message: str, code: str = "INVALID") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


class NotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, entity: str, ident: object) -> None:
        super().__init__(f"{entity} {ident} not found")
        self.entity = entity
        self.ident = ident


class Conflict(DomainError):
    code = "CONFLICT"

    def __init__(self, message: str, *, field: str | None = None, existing_id: int | None = None):
        super().__init__(message)
        self.field = field
        self.existing_id = existing_id


class PermissionDenied(DomainError):
    code = "PERMISSION_DENIED"


class Unauthenticated(DomainError):
    """No credentials, or credentials that are expired, revoked or forged (HTTP 401)."""

    code = "UNAUTHENTICATED"
