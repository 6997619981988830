"""Demo tickets: a few hundred inquiries and complaints with their conversations.

Generated after the rest of the demo data (it reads the demo customers and the support team back,
ordered by id) from its own ``random.Random`` stream, so adding tickets leaves every other demo
row as it was, and the same seed gives the same tickets. Tickets older than their resolution
time are SOLVED (CLOSED four days later); recent ones are still NEW, OPEN, PENDING or ON_HOLD.
Resolution times are log-normal around a median that depends on the priority. Rows go straight
in with ``bulk_create`` like the rest of the seed: no audit entries, events or SLA clocks.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from domain.demo import vietnam as vn
from domain.demo.seed import ACTOR, ANCHOR, BASE_TICKETS, Progress, _insert, _max_id, _scaled
from domain.persistence.models import Customer, Team, Ticket, TicketComment, User
from domain.text import encode_tags, fold_required

SUPPORT_TEAM = "Chăm sóc Khách hàng"
#: Tickets are opened over this many days before the anchor, recent days more often.
HISTORY_DAYS = 180
CLOSE_AFTER = timedelta(days=4)

#: (subject, tag, the customer's first message)
TOPICS: tuple[tuple[str, str, str], ...] = (
    ("Không đăng nhập được tài khoản", "tai-khoan", "Tôi nhập đúng mật khẩu nhưng vẫn bị báo lỗi."),
    ("Hóa đơn VAT sai mã số thuế", "hoa-don", "Hóa đơn tháng này ghi sai mã số thuế công ty."),
    ("Giao hàng chậm so với cam kết", "giao-hang", "Đơn hàng đã quá hẹn ba ngày chưa nhận được."),
    ("Yêu cầu đổi trả sản phẩm lỗi", "doi-tra", "Sản phẩm nhận được bị trầy xước, muốn đổi mới."),
    ("Bị trừ tiền hai lần", "thanh-toan", "Thẻ của tôi bị trừ tiền hai lần cho một đơn hàng."),
    ("Hỏi về chính sách bảo hành", "bao-hanh", "Sản phẩm này được bảo hành bao lâu ạ?"),
    ("Ứng dụng bị treo khi mở", "ky-thuat", "Từ hôm qua ứng dụng mở lên là bị treo."),
    ("Đổi địa chỉ giao hàng", "giao-hang", "Nhờ đổi địa chỉ nhận hàng sang văn phòng mới."),
    ("Khiếu nại thái độ nhân viên", "khieu-nai", "Nhân viên giao hàng không lịch sự."),
    ("Gia hạn hợp đồng dịch vụ", "hop-dong", "Chúng tôi muốn gia hạn hợp đồng thêm 12 tháng."),
    ("Xuất lại hóa đơn điện tử", "hoa-don", "Vui lòng xuất lại hóa đơn điện tử cho đơn trước."),
    ("Không nhận được mã OTP", "tai-khoan", "Tôi không nhận được tin nhắn OTP để xác thực."),
)
PRIORITIES = vn.Weighted([("LOW", 20), ("NORMAL", 50), ("HIGH", 22), ("URGENT", 8)])
CHANNELS = vn.Weighted([("EMAIL", 45), ("PHONE", 20), ("CHAT", 20), ("WEB", 10), ("SOCIAL", 5)])
OPEN_STATUSES = vn.Weighted([("NEW", 25), ("OPEN", 45), ("PENDING", 20), ("ON_HOLD", 10)])
#: Median resolution time (hours) per priority.
MEDIAN_HOURS = {"URGENT": 5.0, "HIGH": 14.0, "NORMAL": 36.0, "LOW": 72.0}
REPLIES = (
    "Chúng tôi đã ghi nhận và đang kiểm tra, sẽ phản hồi sớm nhất.",
    "Cảm ơn anh/chị đã phản ánh, bộ phận kỹ thuật đang xử lý.",
    "Anh/chị vui lòng gửi thêm ảnh chụp màn hình để chúng tôi kiểm tra.",
)
NOTES = ("Khách VIP, ưu tiên xử lý.", "Đã chuyển kỹ thuật xem log.", "Chờ kho xác nhận.")


def expected_ticket_count(scale: float) -> int:
    return _scaled(BASE_TICKETS, scale)


class _TicketGenerator:
    def __init__(
        self,
        seed: int,
        count: int,
        customers: list[tuple[int, datetime]],
        team_id: int | None,
        agents: list[int],
        first_ids: tuple[int, int],
    ) -> None:
        self.rng = random.Random(f"rapport-demo-tickets:{seed}")
        self.count = count
        self.customers = customers
        self.team_id = team_id
        self.agents = agents
        self.ticket_id, self.comment_id = first_ids
        self.tickets: list[dict[str, Any]] = []
        self.comments: list[dict[str, Any]] = []

    def _comment(
        self,
        ticket_id: int,
        at: datetime,
        body: str,
        *,
        user: int | None = None,
        customer: int | None = None,
        public: bool = True,
    ) -> None:
        self.comment_id += 1
        self.comments.append(
            {
                "id": self.comment_id,
                "ticket_id": ticket_id,
                "author_user_id": user,
                "author_customer_id": customer,
                "public": public,
                "body": body,
                "created_at": at,
                "created_by": ACTOR,
                "updated_by": ACTOR,
            }
        )

    def _opened(self, customer_since: datetime) -> datetime:
        rng = self.rng
        opened = ANCHOR - timedelta(seconds=int(HISTORY_DAYS * 86_400 * rng.random() ** 1.4))
        if opened <= customer_since:  # a recent customer: somewhere in its short history
            opened = customer_since + (ANCHOR - customer_since) * rng.uniform(0.2, 0.9)
        return opened

    def generate(self) -> None:
        rng = self.rng
        for _ in range(self.count):
            self.ticket_id += 1
            # A few customers write in often: skew the pick towards the first ones.
            customer_id, since = self.customers[int(len(self.customers) * rng.random() ** 2)]
            subject, tag, first_message = rng.choice(TOPICS)
            priority = PRIORITIES.pick(rng)
            opened = self._opened(since)
            hours = MEDIAN_HOURS[priority] * math.exp(rng.gauss(0.0, 0.8))
            resolved_at = opened + timedelta(minutes=max(20, round(hours * 60)))
            solved = resolved_at if resolved_at <= ANCHOR else None
            status = OPEN_STATUSES.pick(rng) if solved is None else "SOLVED"
            closed = solved + CLOSE_AFTER if solved and solved + CLOSE_AFTER <= ANCHOR else None
            if closed is not None:
                status = "CLOSED"
            assignee = None if status == "NEW" and rng.random() < 0.5 else rng.choice(self.agents)
            late = solved is not None and hours > 3 * MEDIAN_HOURS[priority]
            self._comment(self.ticket_id, opened, first_message, customer=customer_id)
            last = opened
            if status != "NEW" and assignee is not None:
                # The first reply comes a fifth of the way to the resolution (2 hours if open).
                last = min(ANCHOR, opened + (resolved_at - opened) / 5)
                self._comment(self.ticket_id, last, rng.choice(REPLIES), user=assignee)
                if rng.random() < 0.3:
                    last = min(ANCHOR, last + timedelta(minutes=rng.randint(5, 90)))
                    note = rng.choice(NOTES)
                    self._comment(self.ticket_id, last, note, user=assignee, public=False)
            self.tickets.append(
                {
                    "id": self.ticket_id,
                    "subject": subject,
                    "subject_fold": fold_required(subject),
                    "status": status,
                    "priority": priority,
                    "channel": CHANNELS.pick(rng),
                    "customer_id": customer_id,
                    "assignee_id": assignee,
                    "team_id": self.team_id,
                    "escalation_level": 1 if late and priority in ("HIGH", "URGENT") else 0,
                    "tags": encode_tags([tag]),
                    "solved_at": solved,
                    "closed_at": closed,
                    "created_at": opened,
                    "created_by": ACTOR,
                    "updated_by": ACTOR,
                    "_updated": max(d for d in (opened, last, solved, closed) if d is not None),
                }
            )


async def seed_tickets(
    *, seed: int, scale: float, progress: Progress | None = None
) -> dict[str, int]:
    """Add the demo tickets for the demo customers; returns the ticket and comment counts."""
    customers = [
        (pk, created)
        for pk, created in await Customer.filter(created_by=ACTOR, deleted_at=None)
        .order_by("id")
        .values_list("id", "created_at")
    ]
    if not customers:
        return {"tickets": 0, "ticket_comments": 0}
    team = await Team.filter(name=SUPPORT_TEAM, created_by=ACTOR).order_by("id").first()
    agents: list[int] = []
    if team is not None:
        rows = await User.filter(team_id=team.id, role="SUPPORT", created_by=ACTOR).order_by("id")
        agents = [user.id for user in rows]
    if not agents:  # a workspace without the support team: any demo staff member answers
        agents = [user.id for user in await User.filter(created_by=ACTOR).order_by("id")]
    first_ids = (await _max_id("tickets"), await _max_id("ticket_comments"))
    gen = _TicketGenerator(
        seed,
        expected_ticket_count(scale),
        customers,
        team.id if team else None,
        agents,
        first_ids,
    )
    gen.generate()
    await _insert(Ticket, gen.tickets, "tickets", progress)
    await _insert(TicketComment, gen.comments, "ticket_comments", progress)
    await _finish(gen, first_ids)
    return {"tickets": len(gen.tickets), "ticket_comments": len(gen.comments)}


async def _finish(gen: _TicketGenerator, first_ids: tuple[int, int]) -> None:
    """Reproducible ``updated_at`` (the last thing that happened), and PostgreSQL sequences."""
    conn = connections.get("default")
    async with in_transaction() as tx:
        for row in gen.tickets:
            await Ticket.filter(id=row["id"]).using_db(tx).update(updated_at=row["_updated"])
        await tx.execute_query(
            "UPDATE ticket_comments SET updated_at = created_at "
            f"WHERE created_by = '{ACTOR}' AND id > {int(first_ids[1])}"
        )
        if conn.capabilities.dialect == "postgres":
            for table in ("tickets", "ticket_comments"):
                await tx.execute_query(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
