"""Six months of demo history: thousands of cases with ratings and complaints.

So that the dashboard, the half-year report and the bottleneck page show something
right after `tongban demo load`, a seeded plan of cases is played through the real
services — submission at the window, acceptance, 补正 (some twice), 特别程序, the
departments' review, decisions, 办结 and 送达, ratings from the rating pad with the
差评 follow-ups, complaints with responses and results — each step with the clock
frozen at its moment, on working days in office hours, one transaction per day,
with the feedback worker's sweeps run at each day's end. The event log, deadlines,
audit log and feedback records are therefore the genuine article.

One department is deliberately slow on one item (不动产登记中心, 转移登记): the
bottleneck analysis finds it first. The applicants are the fictional people of the
demo's legacy registers (demo/legacy.py: the same names and identity numbers as the
公安人口库, so the 免提交 identity checks pass), and items that check an enterprise's
营业执照 are filed by a 存续 enterprise of the 企业登记库. Where a check still does not
pass, the clerk checks the paper at acceptance. Idempotent: every case carries an
Idempotency-Key, and nothing is added once the first exists.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy.orm import Session

from tongban.cases import service as case_service
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import BundleRead, ItemRead
from tongban.config import get_settings
from tongban.db import transaction
from tongban.demo import legacy_enterprise, legacy_people
from tongban.demo.history_model import (
    KEY_PREFIX,
    Cast,
    Enterprise,
    HistoryReport,
    Moment,
    Person,
    Play,
)
from tongban.demo.history_steps import COMPLAINT_TEXTS, Steps
from tongban.demo.legacy import DEFAULT_SEED, registered
from tongban.demo.loader import read
from tongban.feedback import service as feedback_service
from tongban.feedback.schemas import (
    SweepReport,
)
from tongban.kit.clock import SHANGHAI, frozen, local_today
from tongban.workdays import service as workdays_service

DEFAULT_CASES = 2000
DAYS = 180
SEED = 20260101
SLOW_ITEM = "11640425MB00008TB0071006000100001"  # 不动产登记（转移登记）
SLOW_SHARE = 8  # every 8th case is a transfer registration: the county's busiest item
BUNDLE_SHARE = 0.04
OFFICE_OPENS = time(9, 0)
OFFICE_MINUTES = 470  # 09:00–16:50: the last step of the day starts before 17:00
SWEEP_AT = time(18, 30)
ENTERPRISE_SERVICES = "enterprise."  # items checking these are filed by an enterprise
Drawn = TypeVar("Drawn")
SPECIAL_KINDS = ("勘察", "公示", "专家评审", "检验")
BAD_COMMENTS = ("等了很久没有进展", "补正要求前后不一致", "窗口解释不清楚")


def load_history(
    url: str | None = None, *, cases: int = DEFAULT_CASES, seed: int = SEED
) -> HistoryReport:
    """Play ``cases`` planned cases over the 180 days before today (idempotent)."""
    report = HistoryReport()
    if cases <= 0:
        return report
    with transaction(url) as session:
        planner = planner_for(session, seed=seed, report=report)
        first_key = f"{KEY_PREFIX}{0:05d}"
        clerk = planner.cast.clerk
        if case_service.case_no_for_idempotency_key(session, actor=clerk, key=first_key):
            return report
    plays = [planner.plan(index, cases) for index in range(cases)]
    _run(url, planner.days, plays, planner.rng, report)
    return report


def planner_for(
    session: Session, *, seed: int = SEED, report: HistoryReport | None = None
) -> _Planner:
    """The seeded planner over the demo catalog and the last 180 days' working days."""
    items = {code: catalog_service.get_item(session, code=code) for code in _item_codes()}
    bundles = {b.code: b for b in catalog_service.list_bundles(session)}
    days = _working_days(session)
    cast = Cast(session)
    return _Planner(random.Random(seed), days, items, bundles, cast, report or HistoryReport())


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

    # --- planning ---------------------------------------------------------------------

    def plan(self, index: int, total: int) -> Play:
        rng = self.rng
        if rng.random() < BUNDLE_SHARE and self.bundles:
            bundle = self.bundles[rng.choice(sorted(self.bundles))]
            codes = [item.code for item in bundle.items]
            play = Play(index, self._person(), codes, bundle.code, bundle.lead_department_code)
        else:
            code = SLOW_ITEM if index % SLOW_SHARE == 0 else rng.choice(self.ordinary)
            play = Play(index, self._person(), [code], None, self.items[code].department_code)
            if _checks_an_enterprise(self.items[code]):
                play.enterprise = self._enterprise()
        # Evenly over the working days, so that no day looks like a spike in the audit log.
        start = Moment(index * len(self.days) // total, rng.randrange(0, 300))
        self._story(play, start)
        return play

    def _person(self) -> Person:
        """The next person of the population register (each once, while there are enough)."""
        found = self._next("people", self.people)
        phone = f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}"
        return Person(found.name, found.id_number, phone)

    def _partner(self) -> legacy_people.Person:
        return self._next("people", self.people)

    def _enterprise(self) -> Enterprise:
        found = self._next("enterprises", self.enterprises)
        return Enterprise(found.name, found.credit_code)

    def _next(self, kind: str, drawn: Sequence[Drawn]) -> Drawn:
        position = self._drawn[kind]
        self._drawn[kind] = position + 1
        return drawn[position % len(drawn)]

    def _later(self, moment: Moment, days: tuple[int, int]) -> Moment:
        gap = self.rng.randint(*days)
        if gap == 0:
            minute = moment.minute + self.rng.randrange(5, 90)
            if minute < OFFICE_MINUTES:
                return Moment(moment.day, minute)
            gap = 1
        return Moment(moment.day + gap, self.rng.randrange(0, OFFICE_MINUTES))

    def _story(self, play: Play, at: Moment) -> None:
        rng, add = self.rng, play.steps.append
        add((at, self._submit))
        draw = rng.random()
        for _ in range(2 if draw < 0.03 else 1 if draw < 0.12 else 0):  # 补正, some twice
            at = self._later(at, (0, 1))
            add((at, self._clerk("request_supplement", payload={"missing": ["身份证明材料"]})))
            at = self._later(at, (1, 4))
            add((at, self._clerk("supplement")))
        if draw > 0.97:
            add((self._later(at, (0, 1)), self._clerk("refuse", note="不属于本机关受理范围")))
            return
        if 0.95 < draw <= 0.97:
            add((self._later(at, (1, 3)), self._clerk("withdraw", note="申请人主动撤回")))
            return
        at = self._later(at, (0, 1))
        add((at, self._accept))
        reviewed = self._review(play, at)
        if reviewed is None:
            return
        at = self._later(reviewed, (0, 1))
        add((at, self._clerk("close")))
        method = rng.choice(("pickup", "mail", "electronic"))
        at = self._later(at, (0, 2))
        add((at, self._clerk("deliver", payload={"method": method})))
        if rng.random() < 0.6:
            self._rating(play, self._later(at, (0, 0)))
        slow = play.item_codes == [SLOW_ITEM]
        if rng.random() < (0.15 if slow else 0.03):
            self._complaint(play, self._later(at, (0, 3)), "efficiency" if slow else None)

    def _review(self, play: Play, at: Moment) -> Moment | None:
        """The departments' part: 补正 or 特别程序 at the lead, then every task, then the
        decision. None when the case ends otherwise (withdrawn in review)."""
        rng, add = self.rng, play.steps.append
        departments = sorted({self.items[code].department_code for code in play.item_codes})
        # A bundle's lead department may hold no task of its own: the first department with
        # one then asks for 补正 or starts a special procedure.
        lead = play.lead if play.lead in departments else departments[0]
        draw = rng.random()
        if draw < 0.05:  # review found something missing: the clock pauses
            at = self._later(at, (0, 2))
            add((at, self._reviewer(lead, "request_supplement", {"missing": ["补充说明"]})))
            at = self._later(at, (1, 3))
            add((at, self._clerk("supplement")))
        elif draw < 0.09:
            kind = rng.choice(SPECIAL_KINDS)
            at = self._later(at, (0, 2))
            add((at, self._reviewer(lead, "start_special", {"kind": kind})))
            at = self._later(at, (3, 10))
            add((at, self._reviewer(lead, "finish_special")))
        elif draw < 0.10:
            add((self._later(at, (1, 3)), self._clerk("withdraw", note="申请人主动撤回")))
            return None
        deny = rng.random() < 0.02
        done = at
        for stage in self._stages(play):  # a bundle's later stage waits for the earlier one
            start = done
            for department in stage:
                slow = department == lead and SLOW_ITEM in play.item_codes
                finished = self._later(start, (6, 10) if slow else (0, 2))
                action = "deny_task" if deny and department == lead else "approve_task"
                add((finished, self._task(department, action)))
                done = max(done, finished, key=lambda m: (m.day, m.minute))
            if deny and lead in stage:
                break  # the later stages are cancelled with it
        decision = {"decision": "deny"} if deny else {"decision": "approve"}
        note = "不符合法定条件" if deny else ""
        at = self._later(done, (0, 0))
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

    # --- steps: each plays one service call as the right person -------------------------
