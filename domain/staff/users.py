"""Staff members: creation and the checks other use cases rely on."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from domain.contact import normalize_email
from domain.customers.normalize import normalize_timezone
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.identity.permissions import ROLES
from domain.persistence.models import Team, User
from domain.recording import record
from domain.text import fold_required

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


async def get_user(user_id: int) -> User:
    user = await User.filter(id=user_id, deleted_at=None).first()
    if user is None:
        raise NotFound("User", user_id)
    return user


async def create_user(
    *,
    name: str,
    email: str,
    role: str = "SALES",
    team_id: int | None = None,
    manager_id: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
    password_hash: str | None = None,
    actor: str,
) -> User:
    """Create a staff member; the normalized e-mail is unique across users (deleted included).

    Without ``password_hash`` (see :func:`domain.identity.passwords.hash_password`) the user
    cannot log in until a password is set.
    """
    clean_name = " ".join(name.split())
    if not clean_name:
        raise ValidationFailed("name", "a name is required", "REQUIRED")
    address = normalize_email(email, field="email")
    if role not in ROLES:
        raise ValidationFailed("role", f"unknown role {role!r}", "INVALID_KIND")
    zone = normalize_timezone(timezone) or DEFAULT_TIMEZONE
    team = await Team.filter(id=team_id, deleted_at=None).first() if team_id else None
    if team_id is not None and team is None:
        raise ValidationFailed("teamId", f"team {team_id} not found", "NOT_FOUND")
    if manager_id is not None and not await User.filter(id=manager_id, deleted_at=None).exists():
        raise ValidationFailed("managerId", f"user {manager_id} not found", "NOT_FOUND")
    existing = await User.filter(email=address).first()
    if existing is not None:
        raise Conflict(
            f"a user with e-mail {address} exists", field="email", existing_id=existing.id
        )
    async with in_transaction():
        user = await User.create(
            name=clean_name,
            name_fold=fold_required(clean_name),
            email=address,
            role=role,
            timezone=zone,
            team_id=team_id,
            manager_id=manager_id,
            password_hash=password_hash,
            created_by=actor,
            updated_by=actor,
        )
        if team is not None:
            await user.teams.add(team)
        await record(
            actor,
            "user.create",
            "User",
            user.id,
            {"name": [None, clean_name], "email": [None, address], "role": [None, role]},
            "user.created",
        )
    return user


async def deactivate_user(user_id: int, *, actor: str) -> User:
    """Deactivate a staff member (they keep their records; new ownership is refused)."""
    user = await get_user(user_id)
    if not user.active:
        return user
    user.active = False
    user.updated_by = actor
    async with in_transaction():
        await user.save(update_fields=["active", "updated_by", "updated_at"])
        await record(
            actor, "user.deactivate", "User", user.id, {"active": [True, False]}, "user.deactivated"
        )
    return user
