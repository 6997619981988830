"""Mutations on users and teams."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.staff import teams, users
from gql.context import Context
from gql.enums import Role
from gql.ids import decode_pk
from gql.mutations.results import MutationFailure, attempt
from gql.types.staff import Team, User

Info = strawberry.Info[Context, None]


@strawberry.type
class UserSuccess:
    user: User


@strawberry.type
class TeamSuccess:
    team: Team


UserResult = Annotated[UserSuccess | MutationFailure, strawberry.union("UserResult")]
TeamResult = Annotated[TeamSuccess | MutationFailure, strawberry.union("TeamResult")]


@strawberry.input
class CreateUserInput:
    name: str
    email: str
    role: Role = Role.SALES
    team_id: strawberry.ID | None = None
    manager_id: strawberry.ID | None = None
    timezone: str = "Asia/Ho_Chi_Minh"


@strawberry.input
class CreateTeamInput:
    name: str
    lead_id: strawberry.ID | None = None
    calendar_key: str | None = None


@strawberry.input
class TeamMemberInput:
    team_id: strawberry.ID
    user_id: strawberry.ID


@strawberry.type
class StaffMutations:
    @strawberry.mutation(description="Add a staff member.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserResult:
        async def run() -> UserSuccess:
            row = await users.create_user(
                name=input.name,
                email=input.email,
                role=input.role.value,
                team_id=None
                if input.team_id is None
                else decode_pk(input.team_id, "Team", field="teamId"),
                manager_id=None
                if input.manager_id is None
                else decode_pk(input.manager_id, "User", field="managerId"),
                timezone=input.timezone,
                actor=info.context.actor,
            )
            return UserSuccess(user=row)  # type: ignore[arg-type]

        return await attempt(info.context, run, existing_type="User")

    @strawberry.mutation
    async def create_team(self, info: Info, input: CreateTeamInput) -> TeamResult:
        async def run() -> TeamSuccess:
            row = await teams.create_team(
                name=input.name,
                lead_id=None
                if input.lead_id is None
                else decode_pk(input.lead_id, "User", field="leadId"),
                calendar_key=input.calendar_key,
                actor=info.context.actor,
            )
            return TeamSuccess(team=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)

    @strawberry.mutation(description="Add a user to a team (their first team becomes primary).")
    async def add_team_member(self, info: Info, input: TeamMemberInput) -> TeamResult:
        async def run() -> TeamSuccess:
            row = await teams.add_member(
                decode_pk(input.team_id, "Team", field="teamId"),
                decode_pk(input.user_id, "User", field="userId"),
                actor=info.context.actor,
            )
            return TeamSuccess(team=row)  # type: ignore[arg-type]

        return await attempt(info.context, run)
