"""Seed a reproducible Vietnamese demo data set straight through the Tortoise models.

Everything is generated in memory first from one ``random.Random(seed)`` and a fixed anchor date,
then written with ``bulk_create`` in batches, one transaction per batch. Primary keys are assigned
here (continuing after the current maximum of each table), so no row has to be read back; on
PostgreSQL the id sequences are moved past the inserted ids afterwards.

Derived columns (``*_fold``, ``primary_email``/``primary_phone``, ``search_text``, ``tags``) are
filled exactly as the domain services store them. ``updated_at`` (an ``auto_now`` column) is
reset to a generated value after the insert so that two runs produce identical rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from tortoise import connections
from tortoise.models import Model
from tortoise.transactions import in_transaction

from domain.demo import vietnam as vn
from domain.demo.accounts import seed_demo_accounts
from domain.persistence.models import (
    Customer,
    Interaction,
    Opportunity,
    Pipeline,
    Relationship,
    Stage,
    StageChange,
    Task,
    Team,
    User,
)
from domain.text import encode_tags, fold, fold_required

Progress = Callable[[str, int, int], None]
Row = dict[str, Any]

ACTOR = "import:demo-seed"
#: Every generated date is relative to this instant, never to the wall clock.
ANCHOR = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=7)))
DAY = timedelta(days=1)

BASE_PEOPLE = 20_000
BASE_ORGANIZATIONS = 3_000
BASE_INTERACTIONS = 100_000
BASE_OPPORTUNITIES = 8_000
BASE_TASKS = 5_000
BASE_TICKETS = 400  # written by domain.demo.tickets
EMPLOYED_SHARE = 0.60
SUBSIDIARY_SHARE = 0.08
REFERRED_SHARE = 0.05
FAMILY_SHARE = 0.03

BATCH = 2_000
WIDE_BATCH = 1_000  # customers: ~50 columns per row


def _scaled(base: int, scale: float) -> int:
    return max(1, round(base * scale))


def expected_counts(scale: float = 1.0) -> dict[str, int]:
    """The row counts ``seed_demo`` produces at ``scale`` (stage changes depend on the seed)."""
    people = _scaled(BASE_PEOPLE, scale)
    orgs = _scaled(BASE_ORGANIZATIONS, scale)
    employed = min(people, max(1, round(people * EMPLOYED_SHARE)))
    subsidiaries = min(orgs - 1, max(1, round(orgs * SUBSIDIARY_SHARE)))
    referred = min(people - 1, max(1, round(people * REFERRED_SHARE)))
    family = min(people - 1, max(1, round(people * FAMILY_SHARE)))
    return {
        "teams": len(vn.TEAMS),
        "users": sum(n for _, roles in vn.TEAMS for _, n in roles),
        "pipelines": len(vn.PIPELINES),
        "stages": sum(len(stages) for _, _, stages in vn.PIPELINES),
        "people": people,
        "organizations": orgs,
        "customers": people + orgs,
        "relationships": employed + subsidiaries + referred + family,
        "works_at": employed,
        "subsidiary_of": subsidiaries,
        "referred_by": referred,
        "family_of": family,
        "opportunities": _scaled(BASE_OPPORTUNITIES, scale),
        "interactions": _scaled(BASE_INTERACTIONS, scale),
        "tasks": _scaled(BASE_TASKS, scale),
        "tickets": _scaled(BASE_TICKETS, scale),
    }


def search_text_for(
    display_name: str,
    emails: Sequence[str],
    phones: Sequence[str],
    domain: str | None = None,
    legal_name: str | None = None,
) -> str:
    """``search_text`` exactly as ``domain.customers.normalize.refresh_derived`` builds it."""
    parts = [fold_required(display_name), fold(legal_name), domain, *emails]
    parts += ["".join(c for c in p if c.isdigit()) for p in phones]
    return " ".join(dict.fromkeys(p for p in parts if p))


def _days_ago(rng: random.Random, max_days: float, skew: float = 1.0) -> datetime:
    """An instant up to ``max_days`` before the anchor; ``skew`` > 1 favours recent instants."""
    seconds = int(max_days * 86_400 * rng.random() ** skew)
    return ANCHOR - timedelta(seconds=seconds)


def _record(created_at: datetime) -> Row:
    return {"created_at": created_at, "created_by": ACTOR, "updated_by": ACTOR}


class _Unique:
    """Membership-only set (never iterated, so hash randomisation cannot leak into the data)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def claim(self, value: str) -> bool:
        if value in self._seen:
            return False
        self._seen.add(value)
        return True


class _Generator:
    def __init__(self, seed: int, scale: float, ids: dict[str, int]) -> None:
        self.rng = random.Random(seed)
        self.counts = expected_counts(scale)
        self.ids = ids
        self.emails = _Unique()
        self.phones = _Unique()
        self.teams: list[Row] = []
        self.users: list[Row] = []
        self.memberships: list[tuple[int, int]] = []  # (user id, team id)
        self.team_leads: list[tuple[int, int]] = []  # (team id, lead user id)
        self.sales_by_team: list[list[int]] = []
        self.sales: list[int] = []
        self.contact_users: list[int] = []
        self.pipelines: list[Row] = []
        self.stages: list[Row] = []
        self.pipeline_stages: list[list[Row]] = []
        self.customers: list[Row] = []
        self.relationships: list[Row] = []
        self.opportunities: list[Row] = []
        self.stage_changes: list[Row] = []
        self.interactions: list[Row] = []
        self.tasks: list[Row] = []
        self.opps_by_customer: dict[int, list[Row]] = {}

    # --- helpers ---------------------------------------------------------------------------------

    def mobile(self) -> str:
        while True:
            number = vn.mobile_number(self.rng)
            if self.phones.claim(number):
                return number

    def landline(self, city: int) -> str:
        while True:
            number = vn.landline_number(self.rng, city)
            if self.phones.claim(number):
                return number

    def person_name(self) -> tuple[str, str, str]:
        """(family name, middle + given name, given name)."""
        rng = self.rng
        family = vn.FAMILY_NAMES.pick(rng)
        if rng.random() < 0.5:
            middle = vn.MALE_MIDDLE_NAMES.pick(rng)
            given = rng.choice(vn.MALE_GIVEN_NAMES)
        else:
            middle = vn.FEMALE_MIDDLE_NAMES.pick(rng)
            given = rng.choice(vn.FEMALE_GIVEN_NAMES)
        if middle == given:
            middle = "Văn" if given in vn.MALE_GIVEN_NAMES else "Thị"
        return family, f"{middle} {given}", given

    def address(self, city: int) -> Row:
        rng = self.rng
        name, _, _, postal, districts = vn.CITIES[city]
        return {
            "line1": f"{rng.randint(1, 450)} {rng.choice(vn.STREETS)}",
            "line2": None,
            "ward": rng.choice(vn.WARDS),
            "district": rng.choice(districts),
            "city": name,
            "postalCode": f"{postal}{rng.randrange(10_000):04d}",
        }

    def source(self) -> tuple[str, str | None, Row | None]:
        rng = self.rng
        channel = vn.SOURCE_CHANNELS.pick(rng)
        campaign = rng.choice(vn.CAMPAIGNS[channel]) if rng.random() < 0.8 else None
        utm: Row | None = None
        if channel in vn.UTM_MEDIUM and campaign is not None:
            utm = {
                "source": "google" if channel == "website" else channel,
                "medium": vn.UTM_MEDIUM[channel],
                "campaign": fold_required(campaign).replace(" ", "-").replace("/", "-"),
            }
        return channel, campaign, utm

    def owner_for_city(self, city: int | None, b2b_share: float) -> int:
        rng = self.rng
        if city is None or rng.random() < 0.15:
            return rng.choice(self.sales)
        if rng.random() < b2b_share:
            return rng.choice(self.sales_by_team[3])
        region = {0: 1, 1: 0, 2: 2, 3: 0, 4: 1, 5: 1, 6: 2, 7: 2, 8: 1, 9: 2, 10: 2, 11: 0}[city]
        return rng.choice(self.sales_by_team[region])

    # --- staff and pipelines ---------------------------------------------------------------------

    def gen_staff(self) -> None:
        rng = self.rng
        team_id = self.ids["teams"]
        user_id = self.ids["users"]
        for t_index, (team_name, roles) in enumerate(vn.TEAMS):
            team_id += 1
            created = ANCHOR - timedelta(days=1_200 - 20 * t_index)
            self.teams.append(
                {
                    "id": team_id,
                    "name": team_name,
                    "name_fold": fold_required(team_name),
                    "lead_id": None,
                    **_record(created),
                }
            )
            lead = user_id + 1
            self.team_leads.append((team_id, lead))
            members: list[int] = []
            for role, count in roles:
                for _ in range(count):
                    user_id += 1
                    family, first, given = self.person_name()
                    local = f"{fold_required(given)}.{fold_required(family)}".replace(" ", "")
                    email = f"{local}@rapport.demo"
                    n = 1
                    while not self.emails.claim(email):
                        n += 1
                        email = f"{local}{n}@rapport.demo"
                    name = f"{family} {first}"
                    self.users.append(
                        {
                            "id": user_id,
                            "name": name,
                            "name_fold": fold_required(name),
                            "email": email,
                            "role": role,
                            "active": not (role == "SALES" and rng.random() < 0.05),
                            "team_id": team_id,
                            "manager_id": None if user_id == lead else lead,
                            **_record(created + timedelta(days=rng.randint(0, 400))),
                        }
                    )
                    self.memberships.append((user_id, team_id))
                    members.append(user_id)
                    if role == "SALES":
                        self.sales.append(user_id)
                    if role in ("SALES", "SUPPORT"):
                        self.contact_users.append(user_id)
            if roles[1][0] == "SALES":
                self.sales_by_team.append([u for u in members if u != lead])
        # A few cross-team memberships: the B2B lead also sits in both big regional teams, and
        # support leads join the analysts.
        b2b_team, b2b_lead = self.team_leads[3]
        self.memberships.append((b2b_lead, self.team_leads[0][0]))
        self.memberships.append((b2b_lead, self.team_leads[1][0]))
        self.memberships.append((self.team_leads[4][1], self.team_leads[5][0]))
        del b2b_team

    def gen_pipelines(self) -> None:
        pipeline_id = self.ids["pipelines"]
        stage_id = self.ids["stages"]
        created = ANCHOR - timedelta(days=1_100)
        for name, is_default, stages in vn.PIPELINES:
            pipeline_id += 1
            self.pipelines.append(
                {
                    "id": pipeline_id,
                    "name": name,
                    "name_fold": fold_required(name),
                    "is_default": is_default,
                    "currency": "VND",
                    **_record(created),
                }
            )
            rows: list[Row] = []
            for position, (stage_name, probability) in enumerate(stages):
                stage_id += 1
                row = {
                    "id": stage_id,
                    "pipeline_id": pipeline_id,
                    "name": stage_name,
                    "name_fold": fold_required(stage_name),
                    "position": position,
                    "probability": probability,
                    **_record(created),
                }
                rows.append(row)
                self.stages.append(row)
            self.pipeline_stages.append(rows)

    # --- customers -------------------------------------------------------------------------------

    def gen_organizations(self) -> None:
        rng = self.rng
        domains = _Unique()
        names = _Unique()
        next_id = self.ids["customers"]
        for _ in range(self.counts["organizations"]):
            next_id += 1
            w1, w2 = rng.sample(vn.BRAND_WORDS, 2)
            brand = f"{w1} {w2}"
            industry_index = vn.INDUSTRY_POOL.pick(rng)
            industry, _, qualifier, suffix, (lo, hi) = vn.INDUSTRIES[industry_index]
            legal_name = f"{vn.LEGAL_FORMS.pick(rng)} {qualifier} {brand}"
            display = brand if rng.random() < 0.4 else f"{brand} {suffix}"
            if not names.claim(display):
                display = f"{brand} {suffix}"
                if not names.claim(display):
                    display = f"{brand} {suffix} {rng.choice(('Group', 'Việt Nam', 'JSC'))}"
                    names.claim(display)
            slug = fold_required(brand)
            r = rng.random()
            base = slug.replace(" ", "") if r < 0.55 else slug.replace(" ", "-")
            tld = vn.DOMAIN_SUFFIXES.pick(rng)
            domain = base + tld
            candidates = [
                f"{base}{fold_required(suffix).replace(' ', '')}{tld}",
                f"{base}-{fold_required(suffix).replace(' ', '')}{tld}",
            ]
            n = 1
            while not domains.claim(domain):
                if candidates:
                    domain = candidates.pop(0)
                else:
                    n += 1
                    domain = f"{base}{n}{tld}"
            city = vn.CITY_POOL.pick(rng)
            phones = [{"number": self.landline(city), "label": "main"}]
            if rng.random() < 0.4:
                phones.append({"number": self.mobile(), "label": "hotline"})
            emails = [{"address": f"{rng.choice(vn.ORG_MAILBOXES)}@{domain}", "label": "work"}]
            if rng.random() < 0.3:
                emails.append({"address": f"ketoan@{domain}", "label": "billing"})
            size = round(math.exp(rng.uniform(math.log(lo), math.log(hi))))
            created = _days_ago(rng, 1_095, 1.3)
            channel, campaign, utm = self.source()
            lifecycle = vn.ORG_LIFECYCLE.pick(rng)
            email_opt_in = rng.random() < 0.6
            tags = []
            if rng.random() < 0.7:
                tags.append("b2b")
            if rng.random() < (0.25 if lifecycle == "CUSTOMER" else 0.05):
                tags.append("vip")
            if rng.random() < 0.08:
                tags.append("partner")
            if city == 1 and rng.random() < 0.8:
                tags.append("hanoi")
            if city == 0 and rng.random() < 0.8:
                tags.append("hcmc")
            if channel == "event" or rng.random() < 0.04:
                tags.append("event-2026")
            if email_opt_in and rng.random() < 0.4:
                tags.append("newsletter")
            address = self.address(city)
            self.customers.append(
                {
                    "id": next_id,
                    "kind": "ORGANIZATION",
                    "display_name": display,
                    "display_name_fold": fold_required(display),
                    "legal_name": legal_name,
                    "legal_name_fold": fold_required(legal_name),
                    "domain": domain,
                    "tax_code": f"0{rng.randrange(100_000_000, 1_000_000_000)}",
                    "industry": industry,
                    "industry_fold": fold_required(industry),
                    "size": size,
                    "primary_email": emails[0]["address"],
                    "emails": emails,
                    "primary_phone": phones[0]["number"],
                    "phones": phones,
                    "address": address,
                    "city_fold": fold(address["city"]),
                    "country": "VN",
                    "timezone": "Asia/Ho_Chi_Minh",
                    "lifecycle_stage": lifecycle,
                    "source_channel": channel,
                    "source_campaign": campaign,
                    "source_utm": utm,
                    "owner_id": self.owner_for_city(city, 0.35),
                    "tags": encode_tags(tags),
                    "email_opt_in": email_opt_in,
                    "sms_opt_in": rng.random() < 0.2,
                    "search_text": search_text_for(
                        display,
                        [e["address"] for e in emails],
                        [p["number"] for p in phones],
                        domain,
                        legal_name,
                    ),
                    "_city": city,
                    **_record(created),
                }
            )

    def gen_people(self) -> None:
        rng = self.rng
        orgs = self.customers[:]
        n_people = self.counts["people"]
        employed_slots = rng.sample(range(n_people), self.counts["works_at"])
        employer: list[int | None] = [None] * n_people
        org_cum = list(_accumulate(math.sqrt(o["size"]) for o in orgs))
        chosen = rng.choices(range(len(orgs)), cum_weights=org_cum, k=len(employed_slots))
        for slot, org_index in zip(employed_slots, chosen, strict=True):
            employer[slot] = org_index
        next_id = self.ids["customers"] + len(orgs)
        for i in range(n_people):
            next_id += 1
            family, first, given = self.person_name()
            display = f"{family} {first}"
            employer_index = employer[i]
            org = orgs[employer_index] if employer_index is not None else None
            city: int | None
            if org is not None and rng.random() < 0.7:
                city = org["_city"]
            else:
                city = vn.CITY_POOL.pick(rng) if rng.random() < 0.88 else None
            given_slug = fold_required(given).replace(" ", "")
            family_slug = fold_required(family).replace(" ", "")
            emails: list[Row] = []
            if org is not None and rng.random() < 0.7:
                emails.append(self.work_email(given_slug, family_slug, first, org["domain"]))
            if rng.random() < (0.45 if emails else 0.85):
                emails.append(self.personal_email(given_slug, family_slug, first))
            phones: list[Row] = []
            if rng.random() < 0.95:
                phones.append({"number": self.mobile(), "label": "mobile"})
                if rng.random() < 0.12:
                    phones.append({"number": self.mobile(), "label": rng.choice(("work", "home"))})
            job_title = vn.JOB_TITLES.pick(rng) if org is not None else None
            if org is None and rng.random() < 0.1:
                job_title = rng.choice(
                    ("Freelancer", "Sinh viên", "Chủ cửa hàng", "Kinh doanh tự do")
                )
            created = _days_ago(rng, 1_095, 1.5)
            if org is not None and created < org["created_at"]:
                created = org["created_at"] + timedelta(hours=rng.randint(1, 2_000))
                created = min(created, ANCHOR - timedelta(hours=1))
            channel, campaign, utm = self.source()
            lifecycle = vn.PERSON_LIFECYCLE.pick(rng)
            unsubscribed = rng.random() < 0.04
            email_opt_in = bool(emails) and not unsubscribed and rng.random() < 0.55
            tags = []
            if rng.random() < (0.2 if lifecycle == "CUSTOMER" else 0.03):
                tags.append("vip")
            if city == 1 and rng.random() < 0.7:
                tags.append("hanoi")
            if city == 0 and rng.random() < 0.7:
                tags.append("hcmc")
            if email_opt_in and rng.random() < 0.6:
                tags.append("newsletter")
            if channel == "event" or rng.random() < 0.03:
                tags.append("event-2026")
            if org is not None and rng.random() < 0.4:
                tags.append("b2b")
            if org is None and rng.random() < 0.5:
                tags.append("b2c")
            if org is not None and "partner" in org["tags"] and rng.random() < 0.3:
                tags.append("partner")
            address = self.address(city) if city is not None else None
            if org is not None and rng.random() < 0.7:
                owner = org["owner_id"]
            else:
                owner = self.owner_for_city(city, 0.0)
            self.customers.append(
                {
                    "id": next_id,
                    "kind": "PERSON",
                    "display_name": display,
                    "display_name_fold": fold_required(display),
                    "first_name": first,
                    "first_name_fold": fold_required(first),
                    "last_name": family,
                    "last_name_fold": fold_required(family),
                    "name_order": "FAMILY_FIRST",
                    "job_title": job_title,
                    "job_title_fold": fold(job_title),
                    "organization_id": org["id"] if org is not None else None,
                    "primary_email": emails[0]["address"] if emails else None,
                    "emails": emails,
                    "primary_phone": phones[0]["number"] if phones else None,
                    "phones": phones,
                    "address": address,
                    "city_fold": fold(address["city"]) if address else None,
                    "country": "VN",
                    "timezone": "Asia/Ho_Chi_Minh",
                    "lifecycle_stage": lifecycle,
                    "source_channel": channel,
                    "source_campaign": campaign,
                    "source_utm": utm,
                    "owner_id": owner,
                    "tags": encode_tags(tags),
                    "attributes": {"birthYear": rng.randint(1960, 2004)}
                    if rng.random() < 0.3
                    else {},
                    "email_opt_in": email_opt_in,
                    "sms_opt_in": bool(phones) and not unsubscribed and rng.random() < 0.35,
                    "unsubscribed_at": created + (ANCHOR - created) * rng.random()
                    if unsubscribed
                    else None,
                    "search_text": search_text_for(
                        display, [e["address"] for e in emails], [p["number"] for p in phones]
                    ),
                    "_city": city,
                    **_record(created),
                }
            )

    def work_email(self, given: str, family: str, first: str, domain: str) -> Row:
        initials = "".join(fold_required(w)[0] for w in first.split()[:-1])
        candidates = (f"{given}.{family}", f"{given}{family[0]}{initials}", f"{given}{family}")
        for local in candidates:
            if self.emails.claim(f"{local}@{domain}"):
                return {"address": f"{local}@{domain}", "label": "work"}
        n = 1
        while not self.emails.claim(f"{given}.{family}{n}@{domain}"):
            n += 1
        return {"address": f"{given}.{family}{n}@{domain}", "label": "work"}

    def personal_email(self, given: str, family: str, first: str) -> Row:
        rng = self.rng
        mail_domain = vn.PERSONAL_MAIL_DOMAINS.pick(rng)
        middle = fold_required(first).replace(" ", "")
        while True:
            pattern = rng.random()
            if pattern < 0.35:
                local = (
                    f"{given}.{family}{rng.choice((rng.randint(1, 99), rng.randint(1965, 2004)))}"
                )
            elif pattern < 0.65:
                local = f"{family}{middle}{rng.randint(1, 99)}"
            elif pattern < 0.85:
                local = f"{given}{family}.{rng.randint(1970, 2005)}"
            else:
                local = f"{given}_{family}{rng.randint(100, 9999)}"
            address = f"{local}@{mail_domain}"
            if self.emails.claim(address):
                return {"address": address, "label": "personal"}

    # --- relationships ---------------------------------------------------------------------------

    def gen_relationships(self) -> None:
        rng = self.rng
        n_orgs = self.counts["organizations"]
        orgs = self.customers[:n_orgs]
        people = self.customers[n_orgs:]

        def rel(kind: str, a: Row, b: Row, starts: date | None, notes: str | None = None) -> Row:
            created = max(a["created_at"], b["created_at"])
            return {
                "kind": kind,
                "from_customer_id": a["id"],
                "to_customer_id": b["id"],
                "starts_on": starts,
                "ends_on": None,
                "notes": notes,
                **_record(created),
            }

        by_id = {o["id"]: o for o in orgs}
        for person in people:
            if person["organization_id"] is not None:
                starts = (person["created_at"] - timedelta(days=rng.randint(0, 2_500))).date()
                self.relationships.append(
                    rel("WORKS_AT", person, by_id[person["organization_id"]], starts)
                )
        # Subsidiaries: a child points at an earlier, larger-index-free parent (two levels only).
        order = sorted(range(n_orgs), key=lambda k: (-orgs[k]["size"], k))
        parents = order[: max(1, n_orgs // 10)]
        is_parent = [False] * n_orgs
        for p in parents:
            is_parent[p] = True
        children = [k for k in range(n_orgs) if not is_parent[k]]
        for child in rng.sample(children, min(len(children), self.counts["subsidiary_of"])):
            parent = orgs[rng.choice(parents)]
            orgs[child]["parent_id"] = parent["id"]
            starts = (orgs[child]["created_at"] - timedelta(days=rng.randint(30, 3_000))).date()
            self.relationships.append(rel("SUBSIDIARY_OF", orgs[child], parent, starts))
        missing = self.counts["subsidiary_of"] - sum(1 for o in orgs if o.get("parent_id"))
        for child in parents[1 : 1 + missing]:  # tiny scales: nest parents under the largest one
            orgs[child]["parent_id"] = orgs[parents[0]]["id"]
            self.relationships.append(rel("SUBSIDIARY_OF", orgs[child], orgs[parents[0]], None))

        pairs = _Unique()
        n_people = len(people)
        referred = rng.sample(range(n_people), self.counts["referred_by"])
        for r in referred:
            referrer = rng.randrange(n_people)
            while referrer == r or not pairs.claim(f"R{r}:{referrer}"):
                referrer = rng.randrange(n_people)
            person = people[r]
            person["source_channel"] = "referral"
            person["source_campaign"] = "Giới thiệu bạn bè 2026"
            person["source_utm"] = None
            self.relationships.append(
                rel("REFERRED_BY", person, people[referrer], person["created_at"].date())
            )

        by_family: dict[str, list[int]] = {}
        for k, person in enumerate(people):
            by_family.setdefault(person["last_name"], []).append(k)
        made = 0
        while made < self.counts["family_of"]:
            a = rng.randrange(n_people)
            group = by_family[people[a]["last_name"]]
            same_family = len(group) > 1 and rng.random() < 0.8
            b = rng.choice(group) if same_family else rng.randrange(n_people)
            lo, hi = min(a, b), max(a, b)
            if a == b or not pairs.claim(f"F{lo}:{hi}"):
                continue
            note = rng.choice(("Vợ/chồng", "Anh/chị/em", "Cha/mẹ - con", "Họ hàng"))
            self.relationships.append(rel("FAMILY_OF", people[a], people[b], None, note))
            made += 1

    # --- opportunities ---------------------------------------------------------------------------

    def gen_opportunities(self) -> None:
        rng = self.rng
        n_orgs = self.counts["organizations"]
        orgs = self.customers[:n_orgs]
        people = self.customers[n_orgs:]
        employed = [p for p in people if p["organization_id"] is not None] or people
        next_id = self.ids["opportunities"]
        for _ in range(self.counts["opportunities"]):
            next_id += 1
            b2b = rng.random() < 0.45
            pipeline = self.pipelines[0 if b2b else 1]
            stages = self.pipeline_stages[0 if b2b else 1]
            if b2b:
                customer = rng.choice(orgs) if rng.random() < 0.7 else rng.choice(employed)
                product = rng.choice(vn.B2B_PRODUCTS)
                amount = math.exp(rng.uniform(math.log(5e7), math.log(5e9)))
            else:
                customer = rng.choice(people)
                product = rng.choice(vn.RETAIL_PRODUCTS)
                amount = math.exp(rng.uniform(math.log(5e6), math.log(3e8)))
            amount_vnd = min(5_000_000_000, max(5_000_000, round(amount / 100_000) * 100_000))
            earliest = max(customer["created_at"], ANCHOR - 730 * DAY)
            created = earliest + (ANCHOR - timedelta(hours=2) - earliest) * rng.random() ** 0.8
            age_days = (ANCHOR - created) / DAY
            p_open = 0.12 + 0.8 * math.exp(-age_days / 60)
            r = rng.random()
            if r < p_open:
                status = "OPEN"
            elif r < p_open + (1 - p_open) * 0.55:
                status = "WON"
            else:
                status = "LOST"
            n_stages = len(stages)
            if status == "OPEN":
                reached = rng.choices(range(n_stages), weights=range(n_stages, 0, -1))[0]
                end = ANCHOR - timedelta(hours=1)
                closed_at = None
            else:
                reached = n_stages - 1 if status == "WON" else rng.randrange(n_stages)
                closed_at = min(
                    created + timedelta(days=rng.uniform(3, 150)), ANCHOR - timedelta(hours=1)
                )
                end = closed_at
            points = sorted(rng.random() for _ in range(reached))
            times = [created] + [created + (end - created) * p for p in points]
            changes: list[Row] = []
            previous: int | None = None
            for position, at in enumerate(times):
                to_stage = stages[position]["id"]
                changes.append(self.stage_change(next_id, customer, previous, to_stage, "OPEN", at))
                previous = to_stage
            if closed_at is not None:
                assert previous is not None
                changes.append(
                    self.stage_change(next_id, customer, previous, previous, status, closed_at)
                )
            self.stage_changes.extend(changes)
            if status == "OPEN":
                expected = (created + timedelta(days=rng.uniform(14, 150))).date()
            else:
                assert closed_at is not None
                expected = closed_at.date()
            name = f"{product} - {customer['display_name']}"[:300]
            row = {
                "id": next_id,
                "name": name,
                "name_fold": fold_required(name),
                "customer_id": customer["id"],
                "owner_id": customer["owner_id"] if rng.random() < 0.85 else rng.choice(self.sales),
                "pipeline_id": pipeline["id"],
                "stage_id": stages[reached]["id"],
                "amount": Decimal(amount_vnd),
                "currency": "VND",
                "expected_close_on": expected,
                "status": status,
                "lost_reason": rng.choice(vn.LOST_REASONS) if status == "LOST" else None,
                "closed_at": closed_at,
                **_record(created),
            }
            self.opportunities.append(row)
            self.opps_by_customer.setdefault(customer["id"], []).append(row)
        # Lifecycle follows the pipeline: won -> CUSTOMER, still open -> OPPORTUNITY.
        for customer in self.customers:
            opps = self.opps_by_customer.get(customer["id"])
            if not opps:
                continue
            if any(o["status"] == "WON" for o in opps):
                customer["lifecycle_stage"] = "CUSTOMER"
            elif any(o["status"] == "OPEN" for o in opps) and customer["lifecycle_stage"] in (
                "SUBSCRIBER",
                "LEAD",
                "MQL",
                "SQL",
            ):
                customer["lifecycle_stage"] = "OPPORTUNITY"

    def stage_change(
        self, opp: int, customer: Row, frm: int | None, to: int, status: str, at: datetime
    ) -> Row:
        return {
            "opportunity_id": opp,
            "customer_id": customer["id"],
            "from_stage_id": frm,
            "to_stage_id": to,
            "status": status,
            "changed_at": at,
            **_record(at),
        }

    # --- activities ------------------------------------------------------------------------------

    def activity_weights(self) -> list[float]:
        rng = self.rng
        weights = []
        for c in self.customers:
            w = min(rng.paretovariate(1.3), 60.0)
            if c["id"] in self.opps_by_customer:
                w *= 3
            if c["kind"] == "ORGANIZATION":
                w *= 1.5
            weights.append(w)
        return list(_accumulate(weights))

    def gen_interactions(self, cum: list[float]) -> None:
        rng = self.rng
        horizon = ANCHOR - 730 * DAY
        picks = rng.choices(self.customers, cum_weights=cum, k=self.counts["interactions"])
        rows: list[Row] = []
        for customer in picks:
            kind = vn.INTERACTION_KINDS.pick(rng)
            start = max(customer["created_at"], horizon)
            minutes = int((ANCHOR - start).total_seconds() // 60 * rng.random())
            occurred = start + timedelta(minutes=minutes)
            inbound = rng.random() < vn.INBOUND_SHARE[kind]
            if kind in ("FORM", "WEB"):
                user = None
            elif rng.random() < 0.8:
                user = customer["owner_id"]
            else:
                user = rng.choice(self.contact_users)
            opportunity = None
            opps = self.opps_by_customer.get(customer["id"])
            if opps and rng.random() < 0.4:
                candidate = rng.choice(opps)
                if candidate["created_at"] <= occurred:
                    opportunity = candidate["id"]
            subject = rng.choice(vn.INTERACTION_SUBJECTS[kind])
            body = None
            if kind in ("EMAIL", "NOTE", "MEETING", "CALL") and rng.random() < 0.5:
                body = rng.choice(
                    (
                        f"Trao đổi với {customer['display_name']} về nhu cầu và ngân sách.",
                        f"{customer['display_name']} hẹn phản hồi trong tuần tới.",
                        "Khách hàng yêu cầu gửi thêm tài liệu và bảng giá chi tiết.",
                        "Discussed pricing options; customer will review with the team.",
                        "Đã gửi email xác nhận, chờ phản hồi.",
                    )
                )
            rows.append(
                {
                    "kind": kind,
                    "direction": "INBOUND" if inbound else "OUTBOUND",
                    "subject": subject,
                    "subject_fold": fold(subject),
                    "body": body,
                    "occurred_at": occurred,
                    "customer_id": customer["id"],
                    "user_id": user,
                    "opportunity_id": opportunity,
                    **_record(occurred),
                }
            )
        rows.sort(key=lambda row: (row["occurred_at"], row["customer_id"]))
        self.interactions = rows

    def gen_tasks(self, cum: list[float]) -> None:
        rng = self.rng
        horizon = ANCHOR - 540 * DAY
        picks = rng.choices(self.customers, cum_weights=cum, k=self.counts["tasks"])
        rows: list[Row] = []
        for customer in picks:
            start = max(customer["created_at"], horizon)
            created = start + (ANCHOR - start) * rng.random() ** 0.7
            due = created + timedelta(days=rng.uniform(0.5, 21))
            done = due < ANCHOR and rng.random() < 0.88
            completed = None
            if done:
                completed = min(
                    max(created + timedelta(hours=1), due + timedelta(hours=rng.uniform(-72, 48))),
                    ANCHOR - timedelta(minutes=5),
                )
            opportunity = None
            opps = self.opps_by_customer.get(customer["id"], [])
            open_opps = [o for o in opps if o["status"] == "OPEN"]
            if open_opps and rng.random() < 0.6:
                opportunity = rng.choice(open_opps)["id"]
            title = rng.choice(vn.TASK_TITLES).format(name=customer["display_name"])[:300]
            if rng.random() < 0.85:
                assignee = customer["owner_id"]
            else:
                assignee = rng.choice(self.contact_users)
            rows.append(
                {
                    "title": title,
                    "title_fold": fold_required(title),
                    "notes": "Ưu tiên cao" if rng.random() < 0.1 else None,
                    "due_at": due,
                    "status": "DONE" if done else "OPEN",
                    "completed_at": completed,
                    "assignee_id": assignee,
                    "customer_id": customer["id"],
                    "opportunity_id": opportunity,
                    **_record(created),
                }
            )
        rows.sort(key=lambda row: (row["created_at"], row["customer_id"]))
        self.tasks = rows

    def generate(self) -> None:
        self.gen_staff()
        self.gen_pipelines()
        self.gen_organizations()
        self.gen_people()
        self.gen_relationships()
        self.gen_opportunities()
        cum = self.activity_weights()
        self.gen_interactions(cum)
        self.gen_tasks(cum)


def _accumulate(values: Any) -> list[float]:
    total = 0.0
    out = []
    for v in values:
        total += v
        out.append(total)
    return out


def _clean(row: Row) -> Row:
    return {k: v for k, v in row.items() if not k.startswith("_")}


async def _max_id(table: str) -> int:
    conn = connections.get("default")
    rows = await conn.execute_query_dict(f"SELECT MAX(id) AS m FROM {table}")
    return int(rows[0]["m"] or 0)


async def _insert(
    model: type[Model],
    rows: list[Row],
    stage: str,
    progress: Progress | None,
    batch: int = BATCH,
) -> None:
    total = len(rows)
    for start in range(0, total, batch):
        objects = [model(**_clean(row)) for row in rows[start : start + batch]]
        async with in_transaction() as conn:
            await model.bulk_create(objects, batch_size=len(objects), using_db=conn)
        if progress is not None:
            progress(stage, min(start + batch, total), total)


async def seed_demo(
    *,
    seed: int = 42,
    scale: float = 1.0,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Fill an empty database with the demo data set; returns the number of rows per entity.

    Assumes Tortoise is initialised. Raises ``ValueError`` if any customer already exists.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    if await Customer.all().exists():
        raise ValueError("the database already holds customers; demo data needs an empty one")

    tables = {
        "teams": Team,
        "users": User,
        "pipelines": Pipeline,
        "stages": Stage,
        "customers": Customer,
        "opportunities": Opportunity,
    }
    ids = {name: await _max_id(model._meta.db_table) for name, model in tables.items()}
    gen = _Generator(seed, scale, ids)
    gen.generate()

    await _insert(Team, gen.teams, "teams", progress)
    await _insert(User, gen.users, "users", progress)
    async with in_transaction() as conn:
        for team_id, lead_id in gen.team_leads:
            await Team.filter(id=team_id).using_db(conn).update(lead_id=lead_id)
        users = {u.id: u for u in await User.filter(id__gt=ids["users"]).using_db(conn)}
        teams = {t.id: t for t in await Team.filter(id__gt=ids["teams"]).using_db(conn)}
        for user_id, team_id in gen.memberships:
            await users[user_id].teams.add(teams[team_id], using_db=conn)
    await _insert(Pipeline, gen.pipelines, "pipelines", progress)
    await _insert(Stage, gen.stages, "stages", progress)
    # Organizations first (people and subsidiaries point at them), parents before children.
    n_orgs = gen.counts["organizations"]
    orgs = gen.customers[:n_orgs]
    await _insert(
        Customer,
        [o for o in orgs if not o.get("parent_id")] + [o for o in orgs if o.get("parent_id")],
        "organizations",
        progress,
        WIDE_BATCH,
    )
    await _insert(Customer, gen.customers[n_orgs:], "people", progress, WIDE_BATCH)
    await _insert(Relationship, gen.relationships, "relationships", progress)
    await _insert(Opportunity, gen.opportunities, "opportunities", progress)
    await _insert(StageChange, gen.stage_changes, "stage_changes", progress)
    await _insert(Interaction, gen.interactions, "interactions", progress, 5_000)
    await _insert(Task, gen.tasks, "tasks", progress)
    await _finish(ids, gen)
    from domain.demo.tickets import seed_tickets  # it builds on this module

    tickets = await seed_tickets(seed=seed, scale=scale, progress=progress)

    counts = dict(gen.counts) | tickets
    counts["stage_changes"] = len(gen.stage_changes)
    counts["team_memberships"] = len(gen.memberships)
    counts["demo_accounts"] = await seed_demo_accounts(after_user_id=ids["users"], at=ANCHOR)
    return counts


async def _finish(ids: dict[str, int], gen: _Generator) -> None:
    """Make ``updated_at`` reproducible and, on PostgreSQL, move id sequences past our ids."""
    conn = connections.get("default")
    async with in_transaction() as tx:
        for model in (Team, User, Pipeline, Stage, Customer, Relationship, StageChange,
                      Interaction, Task):  # fmt: skip
            table = model._meta.db_table
            await tx.execute_query(
                f"UPDATE {table} SET updated_at = created_at WHERE created_by = '{ACTOR}'"
            )
        # An opportunity was last touched by its last stage change (UPDATE ... FROM: SQLite 3.33+).
        await tx.execute_query(
            "UPDATE opportunities SET updated_at = m.t FROM ("
            "SELECT opportunity_id, MAX(changed_at) AS t FROM stage_changes GROUP BY opportunity_id"
            ") AS m WHERE m.opportunity_id = opportunities.id "
            f"AND opportunities.created_by = '{ACTOR}'"
        )
        if conn.capabilities.dialect == "postgres":
            for table in ids:
                await tx.execute_query(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
