"""A year of demo history: thousands of cases with ratings and complaints.

So that the dashboard (this half-year against the one before), the half-year report and
the bottleneck page show something right after `tongban demo load`, a seeded plan of
cases over the last 360 days is played through the real services, each step with the
clock frozen at its moment, on working days in office hours, one transaction per day,
with the feedback worker's sweeps at each day's end. The event log, deadlines, audit log
and feedback records are therefore the genuine article.

Most cases are filed online (网办) by citizens from their own portal accounts, made at
their first application with their identity from the population register (实名 level 2);
an enterprise's legal representative links it through the enterprise register before
filing for it (when the exchange is set up); older citizens often use 长辈模式. Online
applications are accepted by the general windows' back office, supplemented, withdrawn
and rated online by the applicant, and delivered mostly electronically. The rest are
filed at the two general windows, whose clerks alternate: items applied for in person
only, and people without an account; their results are picked up or mailed and rated
on the rating pad. Departments decide most cases well within the item's promised
working days; a few are late. The center improves over the year: a larger online share
and fewer late decisions in the later half-year.

One department is deliberately slow on one item (不动产登记中心, 转移登记, every 8th
case): about a third of its cases miss the promised 3 working days, and the bottleneck
analysis finds it first. The applicants are the fictional people and 存续 enterprises of
the demo's legacy registers (demo/legacy.py), so the 免提交 checks pass; where a check
still does not pass, the clerk checks the paper at acceptance. Idempotent: every case
carries an Idempotency-Key, and nothing is added once the first exists.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from tongban.cases import service as case_service
from tongban.cases.schemas import Delivery
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import BundleRead, ItemRead
from tongban.config import get_settings
from tongban.db import transaction
from tongban.demo import legacy_enterprise, legacy_people
from tongban.demo.history_model import (
    KEY_PREFIX,
    Cast,
    Citizen,
    Enterprise,
    HistoryReport,
    Moment,
    Person,
    Play,
)
from tongban.demo.history_steps import COMPLAINT_TEXTS, Steps
from tongban.demo.legacy import DEFAULT_SEED, registered
from tongban.demo.loader import DEMO_REGION, read
from tongban.exchange import service as exchange_service
from tongban.feedback import service as feedback_service
from tongban.feedback.schemas import SweepReport
from tongban.kit.clock import SHANGHAI, frozen, local_today
from tongban.workdays import service as workdays_service

DEFAULT_CASES = 1800
DAYS = 360  # two of the dashboard's default periods (180 days against the 180 before)
SEED = 20260101
SLOW_ITEM = "11640425MB00008TB0071006000100001"  # 不动产登记（转移登记）
SLOW_SHARE = 8  # every 8th case is a transfer registration: the county's busiest item
BUNDLE_SHARE = 0.04
OFFICE_OPENS = time(9, 0)
OFFICE_MINUTES = 470  # 09:00–16:50: the last step of the day starts before 17:00
SWEEP_AT = time(18, 30)
ENTERPRISE_SERVICES = "enterprise."  # items checking these are filed by an enterprise
PERSON = "1"  # service object 自然人 (catalog)
WINDOW, ONLINE, MAIL = "1", "2", "3"  # 办理形式 (catalog channels)
# Shares that change over the year, (first day, last day): the center improves.
ONLINE_SHARE = (0.86, 0.98)  # of the cases that can be applied for online
LATE_SHARE = (0.06, 0.02)  # decisions after the promised working days
SLOW_LATE_SHARE = (0.40, 0.20)  # … in the slow department
# Online filers: citizens with accounts (each a password hash: ~0.1–0.3 s), several
# cases each over the year; some enterprises file often, through their representative.
CASES_PER_CITIZEN = 15
CASES_PER_ENTERPRISE = 80
ELDER_AGE = 60
DOWNLOAD_SHARE = 0.005  # results fetched by the applicant (送达回证); a PDF costs ~0.3 s
Drawn = TypeVar("Drawn")
SPECIAL_KINDS = ("勘察", "公示", "专家评审", "检验")
BAD_COMMENTS = ("等了很久没有进展", "补正要求前后不一致", "窗口解释不清楚")


def load_history(
    url: str | None = None, *, cases: int = DEFAULT_CASES, seed: int = SEED
) -> HistoryReport:
    """Play ``cases`` planned cases over the 360 days before today (idempotent)."""
    report = HistoryReport()
    if cases <= 0:
        return report
    with transaction(url) as session:
        planner = planner_for(session, seed=seed, report=report)
        plays = [planner.plan(index, cases) for index in range(cases)]
        if planner.loaded(session, plays[0]):
            return report
    _run(url, planner.days, plays, planner.rng, report)
    return report


def planner_for(
    session: Session, *, seed: int = SEED, report: HistoryReport | None = None
) -> _Planner:
    """The seeded planner over the demo catalog and the last 360 days' working days."""
    items = {code: catalog_service.get_item(session, code=code) for code in _item_codes()}
    bundles = {b.code: b for b in catalog_service.list_bundles(session)}
    days = _working_days(session)
    cast = Cast(session)
    # An enterprise is linked to an account through the enterprise register (the exchange).
    linkable = bool(exchange_service.providers(session))
    planner = _Planner(random.Random(seed), days, items, bundles, cast, report or HistoryReport())
    planner.online_enterprises = linkable
    return planner


def _working_days(session: Session) -> list[date]:
    calendar = workdays_service.calendar(session)
    today = local_today()
    span = (today - timedelta(days=DAYS - 1) + timedelta(days=n) for n in range(DAYS - 1))
    return [day for day in span if calendar.is_workday(day)]


def _item_codes() -> list[str]:
    return sorted(item["code"] for item in read("items"))


def _registers() -> tuple[list[legacy_people.Person], list[legacy_enterprise.Enterprise]]:
    """The adults of the demo's population register and its 存续 enterprises, as the legacy
    sources hold them (their manifest gives the size and seed; the default otherwise). The
    demo applicants 马晓燕 and 李建军, and their enterprises, file their own cases."""
    manifest = get_settings().exchange_sources_dir / "manifest.json"
    size, seed = 3000, DEFAULT_SEED
    if manifest.exists():
        written = json.loads(manifest.read_text(encoding="utf-8"))
        size, seed = int(written["people"]), int(written["seed"])
    people, enterprises = registered(people=size, seed=seed)
    anchors = legacy_people.ANCHORS
    adults = [p for p in people if p.adult and p not in anchors]
    others = [e for e in enterprises if e.legal_representative not in anchors]
    return adults, [e for e in others if not any(a.person in anchors for a in e.agents)]


def _checks_an_enterprise(item: ItemRead) -> bool:
    return any(
        m.replaced_by_data is not None
        and m.replaced_by_data.service.startswith(ENTERPRISE_SERVICES)
        for m in item.materials
    )


def _for_enterprises(item: ItemRead) -> bool:
    """Filed by an enterprise: its licence is checked, or people may not apply for it."""
    return _checks_an_enterprise(item) or PERSON not in item.service_objects


def _lives_in(person: legacy_people.Person, county: str) -> bool:
    """Whose household is registered in ``county`` (not moved in from afar)."""
    return person.county == county and legacy_people.COUNTIES[county] in person.address


def _share(shares: tuple[float, float], progress: float) -> float:
    first, last = shares
    return first + (last - first) * progress


def _run(
    url: str | None, days: list[date], plays: list[Play], rng: random.Random, report: HistoryReport
) -> None:
    """Every step in time order, one transaction per working day, sweeps at its end."""
    schedule: dict[int, list[tuple[datetime, int, int, Play]]] = {}
    for play in plays:
        for position, (moment, _) in enumerate(play.steps):
            if moment.day >= len(days):
                break  # not yet happened: the case is still open today
            at = _instant(days, moment, rng)
            schedule.setdefault(moment.day, []).append((at, play.index, position, play))
    for day_index in sorted(schedule):
        with transaction(url) as session:
            for at, _, position, play in sorted(schedule[day_index], key=lambda s: s[:3]):
                with frozen(at):
                    play.steps[position][1](session, play)
                report.steps += 1
            sweep_at = datetime.combine(days[day_index], SWEEP_AT, SHANGHAI).astimezone(UTC)
            with frozen(sweep_at):
                for sweep in (
                    feedback_service.sweep_deadlines,
                    feedback_service.auto_confirm,
                    feedback_service.mark_overdue_follow_ups,
                ):
                    sweep(session, at=sweep_at, report=SweepReport())


def _instant(days: list[date], moment: Moment, rng: random.Random) -> datetime:
    local = datetime.combine(days[moment.day], OFFICE_OPENS, SHANGHAI)
    # Seconds too: people do not click on the minute.
    return (local + timedelta(minutes=moment.minute, seconds=rng.randrange(60))).astimezone(UTC)


class _Planner(Steps):
    """Draws each case's story (seeded) and turns it into timed service calls."""

    online_enterprises = False  # whether enterprises can be linked to accounts (exchange)

    def __init__(
        self,
        rng: random.Random,
        days: list[date],
        items: dict[str, ItemRead],
        bundles: dict[str, BundleRead],
        cast: Cast,
        report: HistoryReport,
    ) -> None:
        self.rng, self.days, self.items, self.bundles = rng, days, items, bundles
        self.cast, self.report = cast, report
        self.ordinary = sorted(code for code in items if code != SLOW_ITEM)
        people, enterprises = _registers()
        self.people = rng.sample(people, len(people))
        self.enterprises = rng.sample(enterprises, len(enterprises))
        self._drawn = {"people": 0, "enterprises": 0}
        self.citizens: list[Citizen] = []  # who apply online for themselves
        self._by_identity: dict[str, Citizen] = {}  # every account, representatives too
        self._regulars: list[legacy_enterprise.Enterprise] = []

    def loaded(self, session: Session, first: Play) -> bool:
        """Whether the history is there already: its first case exists."""
        if first.citizen is None:
            filer = self.cast.clerk_for(first.index)
        else:
            found = self.cast.account(session, first.citizen.username)
            if found is None:
                return False
            filer = found
        key = f"{KEY_PREFIX}{first.index:05d}"
        return case_service.case_no_for_idempotency_key(session, actor=filer, key=key) is not None

    # --- planning ---------------------------------------------------------------------

    def plan(self, index: int, total: int) -> Play:
        rng = self.rng
        if not self._regulars:
            self._choose_regulars(total)
        # Evenly over the working days, so that no day looks like a spike in the audit log.
        day = index * len(self.days) // total
        progress = day / max(1, len(self.days) - 1)
        enterprise: Enterprise | None = None
        if rng.random() < BUNDLE_SHARE and self.bundles:
            bundle = self.bundles[rng.choice(sorted(self.bundles))]
            codes, target = [item.code for item in bundle.items], bundle.code
            lead = bundle.lead_department_code
        else:
            code = SLOW_ITEM if index % SLOW_SHARE == 0 else rng.choice(self.ordinary)
            codes, target, lead = [code], None, self.items[code].department_code
            if _for_enterprises(self.items[code]):
                enterprise = self._enterprise(progress)
        citizen = self._online_filer(codes, enterprise, progress)
        person = citizen.person if citizen else self._person()  # at the window: anyone
        play = Play(index, person, codes, target, lead, enterprise=enterprise, citizen=citizen)
        play.elder_mode = citizen is not None and citizen.elder
        play.delivery = self._delivery_choice(play)
        self._story(play, Moment(day, rng.randrange(0, 300)), progress)
        return play

    def _choose_regulars(self, total: int) -> None:
        """The enterprises that file (often: a few dozen for the county's year)."""
        count = max(2, total // CASES_PER_ENTERPRISE)
        self._regulars = self.enterprises[:count]
        self._citizen_count = max(4, total // CASES_PER_CITIZEN)
        self._citizen_source = len(self.people)  # citizens come from the register's far end

    def _person(self) -> Person:
        """The next person of the population register (each once, while there are enough)."""
        found = self._next("people", self.people)
        return Person(found.name, found.id_number, self._phone())

    def _phone(self) -> str:
        return f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"

    def _partner(self) -> legacy_people.Person:
        return self._next("people", self.people)

    def _relatives(self, county: str, count: int) -> list[legacy_people.Person]:
        found: list[legacy_people.Person] = []
        for _ in range(len(self.people)):
            if len(found) == count:
                break
            person = self._next("people", self.people)
            if _lives_in(person, county):
                found.append(person)
        return found

    def _enterprise(self, progress: float) -> Enterprise:
        """One of the enterprises that file, more of them as the year goes on."""
        found = self.rng.choice(self._regulars[: _active(len(self._regulars), progress)])
        return Enterprise(found.name, found.credit_code)

    def _next(self, kind: str, drawn: Sequence[Drawn]) -> Drawn:
        position = self._drawn[kind]
        self._drawn[kind] = position + 1
        return drawn[position % len(drawn)]

    def _online_filer(
        self, codes: list[str], enterprise: Enterprise | None, progress: float
    ) -> Citizen | None:
        """The account that applies online, or None: the case is filed at the window."""
        online = all(
            ONLINE in self.items[c].channels and self.items[c].online_depth != "info" for c in codes
        )
        if enterprise is not None and not self.online_enterprises:
            online = False  # the representative cannot link the enterprise to an account
        if not online or self.rng.random() >= _share(ONLINE_SHARE, progress):
            return None
        if enterprise is None:
            return self._citizen(progress)
        regular = next(e for e in self._regulars if e.credit_code == enterprise.credit_code)
        return self._citizen_of(regular.legal_representative)

    def _delivery_choice(self, play: Play) -> Delivery:
        """How the applicant wants the result: online mostly electronic, else in person or
        by post (where the item may be mailed)."""
        items = [self.items[code] for code in play.item_codes]
        by_mail = all(i.accepts_mail or MAIL in i.channels for i in items)
        draw = self.rng.random()
        if not play.online:
            return "mail" if by_mail and draw < 0.3 else "pickup"
        if draw < 0.6 or all(i.online_depth == "full_online" for i in items):
            return "electronic"
        return "mail" if by_mail and draw < 0.85 else "pickup"  # the licence itself on paper

    def _citizen(self, progress: float) -> Citizen:
        """A citizen who applies online; more of them sign up as the year goes on."""
        pick = self.rng.randrange(_active(self._citizen_count, progress))
        while len(self.citizens) <= pick:
            if self._citizen_source <= self._drawn["people"]:
                return self.rng.choice(self.citizens)  # a small register: everyone is online
            self._citizen_source -= 1
            found = self.people[self._citizen_source]
            age = (legacy_people.AS_OF - found.birth).days // 365
            if (
                not _lives_in(found, DEMO_REGION)  # the county's portal: its residents
                or found.id_number in self._by_identity
                or (age >= ELDER_AGE and self.rng.random() > 0.25)  # fewer older people online
            ):
                continue
            self.citizens.append(self._citizen_of(found))
        return self.citizens[pick]

    def _citizen_of(self, person: legacy_people.Person) -> Citizen:
        """The account of a registered person (one per identity), planned once."""
        known = self._by_identity.get(person.id_number)
        if known is not None:
            return known
        number = len(self._by_identity) + 1
        age = (legacy_people.AS_OF - person.birth).days // 365
        elder = self.rng.random() < (0.4 if age >= ELDER_AGE else 0.01)
        citizen = Citizen(
            username=f"citizen{number:04d}",
            person=Person(person.name, person.id_number, f"1370954{number:04d}"),
            region_code=person.county,
            elder=elder,
        )
        self._by_identity[person.id_number] = citizen
        return citizen

    # --- moments ------------------------------------------------------------------------

    def _later(self, moment: Moment, days: tuple[int, int]) -> Moment:
        gap = self.rng.randint(*days)
        if gap == 0:
            minute = moment.minute + self.rng.randrange(5, 90)
            if minute < OFFICE_MINUTES:
                return Moment(moment.day, minute)
            gap = 1
        return Moment(moment.day + gap, self.rng.randrange(0, OFFICE_MINUTES))

    def _soon(self, moment: Moment) -> Moment:
        """A little later the same day (the next morning when the office has closed)."""
        minute = moment.minute + self.rng.randrange(3, 40)
        if minute < OFFICE_MINUTES:
            return Moment(moment.day, minute)
        return Moment(moment.day + 1, self.rng.randrange(0, 60))

    def _after(self, moment: Moment, days: int) -> Moment:
        """``days`` working days later (0: soon, the same day), leaving time after it."""
        if days == 0:
            return self._soon(moment)
        return Moment(moment.day + days, self.rng.randrange(0, 360))

    # --- the story of one case ------------------------------------------------------------

    def _story(self, play: Play, at: Moment, progress: float) -> None:
        rng, add = self.rng, play.steps.append
        add((at, self._submit))
        draw = rng.random()
        for _ in range(2 if draw < 0.03 else 1 if draw < 0.12 else 0):  # 补正, some twice
            at = self._later(at, (0, 1))
            add((at, self._clerk("request_supplement", payload={"missing": ["身份证明材料"]})))
            at = self._later(at, (1, 4))
            add((at, self._by_applicant("supplement")))
        if draw > 0.97:
            add((self._later(at, (0, 1)), self._clerk("refuse", note="不属于本机关受理范围")))
            return
        if 0.95 < draw <= 0.97:
            add((self._later(at, (1, 3)), self._by_applicant("withdraw", "申请人主动撤回")))
            return
        # At the window the clerk accepts on the spot; online applications wait for the
        # back office's next round (the same day or the next morning).
        if play.online and rng.random() < 0.35:
            at = Moment(at.day + 1, rng.randrange(0, 120))
        else:
            at = self._soon(at)
        add((at, self._accept))
        reviewed = self._review(play, at, progress)
        if reviewed is None:
            return
        at = self._later(reviewed, (0, 1))
        add((at, self._clerk("close")))
        at = self._delivery(play, at)
        slow = play.item_codes == [SLOW_ITEM]
        if rng.random() < (0.15 if slow else 0.03):
            self._complaint(play, self._later(at, (0, 3)), "efficiency" if slow else None)

    def _limit(self, play: Play) -> int:
        """The promised working days of the item, or of the bundle."""
        if play.bundle_code:
            return self.bundles[play.bundle_code].promised_limit_days
        return self.items[play.item_codes[0]].promised_limit_days

    def _review(self, play: Play, at: Moment, progress: float) -> Moment | None:
        """The departments' part: 补正 or 特别程序 at the lead, then every task within the
        promised working days (a few late), then the decision. None when withdrawn."""
        rng, add = self.rng, play.steps.append
        departments = sorted({self.items[code].department_code for code in play.item_codes})
        # A bundle's lead department may hold no task of its own: the first department with
        # one then asks for 补正 or starts a special procedure.
        lead = play.lead if play.lead in departments else departments[0]
        limit = self._limit(play)
        # Long items pause often (入户调查, 公示 …); a 即办件 never does.
        supplements = 0.05 if limit >= 3 else 0.0
        specials = 0.30 if limit >= 10 else 0.04 if limit >= 3 else 0.0
        used = 0  # working days of the limit spent before a pause
        draw = rng.random()
        if draw < supplements:  # review found something missing: the clock pauses
            used = rng.randint(0, 1)
            at = self._after(at, used)
            add((at, self._reviewer(lead, "request_supplement", {"missing": ["补充说明"]})))
            at = self._after(at, rng.randint(1, 3))
            add((at, self._by_applicant("supplement")))
        elif draw < supplements + specials:
            used = rng.randint(0, 1)
            at = self._after(at, used)
            add((at, self._reviewer(lead, "start_special", {"kind": rng.choice(SPECIAL_KINDS)})))
            at = self._after(at, rng.randint(3, 10))
            add((at, self._reviewer(lead, "finish_special")))
        elif draw < supplements + specials + 0.01:
            add((self._later(at, (1, 3)), self._by_applicant("withdraw", "申请人主动撤回")))
            return None
        slow = SLOW_ITEM in play.item_codes
        late = rng.random() < _share(SLOW_LATE_SHARE if slow else LATE_SHARE, progress)
        days = self._work_days(limit, max(0, limit - used), slow=slow, late=late)
        return self._tasks(play, lead, at, days)

    def _work_days(self, limit: int, budget: int, *, slow: bool, late: bool) -> int:
        """Working days from acceptance (or the end of a pause) to the decision: within the
        ``budget`` left of the promised limit unless ``late``. The departments' own work is
        short (a few days at most: long items spend their time in 特别程序, which pauses the
        clock); the slow department uses all of its days, and more."""
        rng = self.rng
        if late:
            return budget + rng.randint(1, 5 if slow else 3)
        if slow:
            return budget if rng.random() < 0.6 else max(0, budget - 1)
        high = min(budget, 1 + limit // 8)
        return rng.randint(min(high, 1 if limit >= 10 else 0), high)

    def _tasks(self, play: Play, lead: str, start: Moment, days: int) -> Moment:
        """Every department's task, stage by stage, the last one ``days`` working days after
        ``start``; then the decision by the lead department (or the window)."""
        rng, add = self.rng, play.steps.append
        deny = rng.random() < 0.02
        slow_office = self.items[SLOW_ITEM].department_code
        stages = self._stages(play)
        done = start
        for number, stage in enumerate(stages, start=1):
            # The stages share the days: each ends on its share of them.
            end = start.day + days * number // len(stages)
            end = max(end, done.day)  # an earlier stage may have run into the next morning
            slowest = slow_office if slow_office in stage else lead if lead in stage else stage[0]
            finished = []
            for department in stage:
                day = end if department == slowest else rng.randint(done.day, end)
                at = self._soon(done) if day == done.day else Moment(day, rng.randrange(0, 360))
                action = "deny_task" if deny and department == lead else "approve_task"
                add((at, self._task(department, action)))
                finished.append(at)
            done = max(finished, key=lambda m: (m.day, m.minute))
            if deny and lead in stage:
                break  # the later stages are cancelled with it
        decision = {"decision": "deny"} if deny else {"decision": "approve"}
        note = "不符合法定条件" if deny else ""
        at = self._soon(done)
        window = play.bundle_code is None and self.items[play.item_codes[0]].decided_by == "window"
        if window:
            add((at, self._clerk("decide", payload=decision, note=note)))
        else:  # the lead department decides, even when it handles none of a bundle's items
            add((at, self._reviewer(play.lead, "decide", decision, note=note)))
        return at

    def _stages(self, play: Play) -> list[list[str]]:
        """The departments of each stage, in order (one stage unless the bundle has more)."""
        stages = self.bundles[play.bundle_code].stages if play.bundle_code else []
        stages = stages or [play.item_codes]
        return [sorted({self.items[code].department_code for code in stage}) for stage in stages]

    def _delivery(self, play: Play, closed: Moment) -> Moment:
        """The result reaches the applicant the way they chose; then they may rate it."""
        rng, add = self.rng, play.steps.append
        if play.delivery == "electronic" and rng.random() < DOWNLOAD_SHARE:
            at = self._later(closed, (0, 2))
            add((at, self._download))  # the first download is the 送达回证
        elif play.delivery == "pickup":  # the applicant comes to the window when told
            at = self._later(closed, (0, 2))
            add((at, self._clerk("deliver", payload={"method": "pickup"})))
        else:
            at = self._later(closed, (0, 1))
            add((at, self._clerk("deliver", payload={"method": play.delivery})))
        if play.online:  # rated online by the applicant, some days later
            if rng.random() < 0.55:
                self._rating(play, self._later(at, (0, 3)))
        elif play.delivery == "pickup" and rng.random() < 0.8:  # on the window's rating pad
            self._rating(play, self._later(at, (0, 0)))
        return at

    def _rating(self, play: Play, at: Moment) -> None:
        slow = play.item_codes == [SLOW_ITEM]
        weights = (4, 6, 10, 25, 55) if slow else (1, 2, 6, 21, 70)
        level = self.rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
        comment = self.rng.choice(BAD_COMMENTS) if level <= 2 else ""
        play.steps.append((at, self._rate(level, comment)))
        if level > 2:
            return
        late = self.rng.random() < 0.2  # some follow-ups miss their 15 working days
        for action, gap in (
            ("call_back", (1, 2)),
            ("rectify" if self.rng.random() < 0.6 else "explain", (2, 5)),
            ("report", (14, 18) if late else (1, 3)),
        ):
            at = self._later(at, gap)
            play.steps.append((at, self._follow_up(action)))

    def _complaint(self, play: Play, at: Moment, category: str | None) -> None:
        rng, add = self.rng, play.steps.append
        category = category or rng.choice(sorted(COMPLAINT_TEXTS))
        add((at, self._file(category)))
        late = rng.random() < 0.15  # a few miss the 24-hour response or 3-day result
        at = self._later(at, (1, 2) if late else (0, 0))
        add((at, self._handle("respond", "已收到，正在核实情况。")))
        at = self._later(at, (4, 6) if late else (0, 2))
        add((at, self._handle("resolve", "已核实并整改，已向诉求人说明。")))
        if rng.random() < 0.7:  # the rest confirm themselves after a week (the worker)
            add((self._later(at, (1, 2)), self._confirm))


def _active(count: int, progress: float) -> int:
    """How many of ``count`` regulars have started by ``progress`` (a third at the start)."""
    return max(1, min(count, math.ceil(count * (0.35 + 0.65 * progress))))
