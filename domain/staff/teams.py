"""Teams of staff members."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from domain.errors import NotFound, ValidationFailed
from domain.persistence.models import Team, User
from domain.recording import record
from domain.text import fold_required


async def get_team(team_id: int) -> Team:
    team = await Team.filter(id=team_id, deleted_at=None).first()
    if team is None:
        raise NotFound("Team", team_id)
    return team


async def _active_user(user_id: int, field: str) -> User:
    user = await User.filter(id=user_id, deleted_at=None).first()
    if user is None:
        raise ValidationFailed(field, f"user {user_id} not found", "NOT_FOUND")
    return user


async def create_team(
    *, name: str, lead_id: int | None = None, calendar_key: str | None = None, actor: str
) -> Team:
    """Create a team; its lead, when given, also becomes a member."""
    clean_name = " ".join(name.split())
    if not clean_name:
        raise ValidationFailed("name", "a name is required", "REQUIRED")
    lead = await _active_user(lead_id, "leadId") if lead_id is not None else None
    async with in_transaction():
        team = await Team.create(
            name=clean_name,
            name_fold=fold_required(clean_name),
            lead_id=lead_id,
            calendar_key=calendar_key,
            created_by=actor,
            updated_by=actor,
        )
        if lead is not None:
            await lead.teams.add(team)
            if lead.team_id is None:  # same rule as add_member: the first team is primary
                lead.team_id = team.id
                lead.updated_by = actor
                await lead.save(update_fields=["team_id", "updated_by", "updated_at"])
        await record(
            actor,
            "team.create",
            "Team",
            team.id,
            {"name": [None, clean_name], "lead_id": [None, lead_id]},
            "team.created",
        )
    return team


async def add_member(team_id: int, user_id: int, *, actor: str) -> Team:
    """Add a user to a team; the first team a user joins becomes their primary team."""
    team = await get_team(team_id)
    user = await _active_user(user_id, "userId")
    if await user.teams.filter(id=team.id).exists():
        return team
    async with in_transaction():
        await user.teams.add(team)
        if user.team_id is None:
            user.team_id = team.id
            user.updated_by = actor
            await user.save(update_fields=["team_id", "updated_by", "updated_at"])
        await record(
            actor,
            "team.add_member",
            "Team",
            team.id,
            {"members": [None, user.id]},
            "team.member_added",
            {"userId": user.id},
        )
    return team
