"""Who ``notify``/``escalate`` mean for a ticket: its assignee, its team's lead, a manager.

``manager`` is the team lead's own manager (``User.manager``) when the lead has one, else the
team's active member with role MANAGER (the longest-standing one, lowest id), so a team without a
reporting line still has someone to escalate to. Without a team, the assignee's primary team
stands in for it.
"""

from __future__ import annotations

from domain.persistence import models as m


async def _team_of(ticket: m.Ticket) -> m.Team | None:
    team_id = ticket.team_id
    if team_id is None and ticket.assignee_id is not None:
        assignee = await m.User.get_or_none(id=ticket.assignee_id)
        team_id = assignee.team_id if assignee else None
    return await m.Team.get_or_none(id=team_id, deleted_at=None) if team_id else None


async def _live(user_id: int | None) -> m.User | None:
    if user_id is None:
        return None
    return await m.User.get_or_none(id=user_id, deleted_at=None, active=True)


async def _manager(team: m.Team) -> m.User | None:
    lead = await _live(team.lead_id)
    if lead is not None and lead.manager_id is not None:
        manager = await _live(lead.manager_id)
        if manager is not None:
            return manager
    return (
        await m.User.filter(teams__id=team.id, role="MANAGER", active=True, deleted_at=None)
        .order_by("id")
        .first()
    )


async def ticket_staff(to: str, ticket_id: int) -> m.User | None:
    """assignee | team_lead | manager | owner (the customer's) | a staff e-mail -> the user."""
    ticket = await m.Ticket.get_or_none(id=ticket_id)
    if ticket is None:
        return None
    if "@" in to:
        return await m.User.get_or_none(email=to.strip().lower(), deleted_at=None)
    if to == "assignee":
        return await _live(ticket.assignee_id)
    if to == "owner":
        customer = await m.Customer.get_or_none(id=ticket.customer_id)
        return await _live(customer.owner_id if customer else None)
    team = await _team_of(ticket)
    if team is None:
        return None
    if to == "team_lead":
        return await _live(team.lead_id)
    if to == "manager":
        return await _manager(team)
    return None


async def ticket_staff_address(to: str, ticket_id: int) -> str | None:
    """The address a ticket notification goes to (an outside address passes through)."""
    user = await ticket_staff(to, ticket_id)
    if user is not None:
        return user.email
    return to if "@" in to else None
