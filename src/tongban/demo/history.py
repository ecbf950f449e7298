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
bottleneck analysis finds it first. The applicants are fictional people (names from
a short list, identity numbers generated with valid check digits). Idempotent:
every case carries an Idempotency-Key, and nothing is added once the first exists.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, CaseDetail, MaterialIn
from tongban.catalog import service as catalog_service
from tongban.catalog.schemas import BundleRead, ItemRead
from tongban.db import transaction
from tongban.demo.cases import SAMPLE_PDF, sample_form
from tongban.demo.loader import read
from tongban.feedback import service as feedback_service
from tongban.feedback.schemas import (
    ComplaintActionIn,
    ComplaintCreate,
    FollowUpActionIn,
    RatingCreate,
    SweepReport,
)
from tongban.kit.clock import SHANGHAI, frozen, local_today
from tongban.kit.ids import make_id_number
from tongban.workdays import service as workdays_service

DEFAULT_CASES = 2000
DAYS = 180
SEED = 20260101
KEY_PREFIX = "demo-history-"
SLOW_ITEM = "11640425MB00008TB0071006000100001"  # 不动产登记（转移登记）
SLOW_SHARE = 8  # every 8th case is a transfer registration: the county's busiest item
BUNDLE_SHARE = 0.04
OFFICE_OPENS = time(9, 0)
OFFICE_MINUTES = 470  # 09:00–16:50: the last step of the day starts before 17:00
SWEEP_AT = time(18, 30)
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "霞")
SPECIAL_KINDS = ("勘察", "公示", "专家评审", "检验")
BAD_COMMENTS = ("等了很久没有进展", "补正要求前后不一致", "窗口解释不清楚")
COMPLAINT_TEXTS = {
    "efficiency": "办理时间太长，多次询问进度都说还在审核。",
    "attitude": "窗口工作人员态度有些生硬，希望改进。",
    "guide": "办事指南上的材料清单和窗口要求不一致。",
    "system": "网上申报页面上传材料时多次失败。",
}


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str


@dataclass(frozen=True)
class Moment:
    """A working day (index into the period's working days) and minutes after opening."""

    day: int
    minute: int


@dataclass
class Play:
    """One planned case while it is played: its steps and what they have learnt."""

    index: int
    person: Person
    item_codes: list[str]
    bundle_code: str | None
    lead: str  # lead department
    steps: list[tuple[Moment, Callable[[Session, Play], None]]] = field(default_factory=list)
    case: CaseDetail | None = None
    follow_up_id: int | None = None
    complaint: tuple[str, str] | None = None  # complaint number, query code


@dataclass
class HistoryReport:
    cases: int = 0
    steps: int = 0
    ratings: int = 0
    complaints: int = 0


class _Cast:
    """The demo staff, looked up once: the window clerk and one reviewer per department."""

    def __init__(self, session: Session) -> None:
        clerk = access_service.actor_by_username(session, "clerk")
        if clerk is None:
            raise LookupError("demo user missing: clerk")
        self.clerk: Actor = clerk
        self.reviewers = {
            r.department_code: r for r in access_service.reviewers(session) if r.department_code
        }

    def reviewer(self, department: str) -> Actor:
        return self.reviewers[department]


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
    cast = _Cast(session)
    return _Planner(random.Random(seed), days, items, bundles, cast, report or HistoryReport())


def _working_days(session: Session) -> list[date]:
    calendar = workdays_service.calendar(session)
    today = local_today()
    span = (today - timedelta(days=DAYS - 1) + timedelta(days=n) for n in range(DAYS - 1))
    return [day for day in span if calendar.is_workday(day)]


def _item_codes() -> list[str]:
    return sorted(item["code"] for item in read("items"))


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


class _Planner:
    """Draws each case's story (seeded) and turns it into timed service calls."""

    def __init__(
        self,
        rng: random.Random,
        days: list[date],
        items: dict[str, ItemRead],
        bundles: dict[str, BundleRead],
        cast: _Cast,
        report: HistoryReport,
    ) -> None:
        self.rng, self.days, self.items, self.bundles = rng, days, items, bundles
        self.cast, self.report = cast, report
        self.ordinary = sorted(code for code in items if code != SLOW_ITEM)
        self._ids: set[str] = set()

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
        # Evenly over the working days, so that no day looks like a spike in the audit log.
        start = Moment(index * len(self.days) // total, rng.randrange(0, 300))
        self._story(play, start)
        return play

    def _person(self) -> Person:
        rng = self.rng
        while True:
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 54))
            id_number = make_id_number("640425", birth, rng.randrange(1, 999))
            if id_number not in self._ids:
                self._ids.add(id_number)
                break
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))
        return Person(name, id_number, f"1{rng.choice('3589')}{rng.randrange(10**9):09d}")

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
        # A bundle's lead department may hold no task of its own: the window decides then.
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
        for department in departments:
            slow = department == lead and SLOW_ITEM in play.item_codes
            finished = self._later(at, (6, 10) if slow else (0, 2))
            action = "deny_task" if deny and department == lead else "approve_task"
            add((finished, self._task(department, action)))
            done = max(done, finished, key=lambda m: (m.day, m.minute))
        decision = {"decision": "deny"} if deny else {"decision": "approve"}
        note = "不符合法定条件" if deny else ""
        at = self._later(done, (0, 0))
        if play.lead in departments:
            add((at, self._reviewer(lead, "decide", decision, note=note)))
        else:
            add((at, self._clerk("decide", payload=decision, note=note)))
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

    # --- steps: each plays one service call as the right person -------------------------

    def _submit(self, session: Session, play: Play) -> None:
        clerk, person = self.cast.clerk, play.person
        items = [self.items[code] for code in play.item_codes]
        materials = [
            MaterialIn(requirement_id=m.id, upload_id=self._upload(session))
            for item in items
            for m in item.materials
            if case_service.must_upload(m)
        ]
        data = CaseCreate(
            item_code=None if play.bundle_code else play.item_codes[0],
            bundle_code=play.bundle_code,
            applicant=ApplicantIn(name=person.name, id_number=person.id_number, phone=person.phone),
            form=sample_form(items, id_number=person.id_number),
            materials=materials,
            channel="window",
        )
        key = f"{KEY_PREFIX}{play.index:05d}"
        play.case = case_service.submit_case(session, actor=clerk, data=data, idempotency_key=key)
        self.report.cases += 1

    def _upload(self, session: Session) -> str:
        clerk = self.cast.clerk
        return case_service.save_upload(
            session, actor=clerk, filename="扫描件.pdf", content=SAMPLE_PDF
        ).upload_id

    def _act(self, session: Session, play: Play, actor: Actor, action: ActionIn) -> None:
        assert play.case is not None
        play.case = case_service.act(session, actor=actor, case_no=play.case.case_no, action=action)

    def _clerk(
        self, action: str, *, payload: dict[str, Any] | None = None, note: str = ""
    ) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            act = ActionIn(action=action, note=note, payload=payload or {})
            self._act(session, play, self.cast.clerk, act)

        return step

    def _accept(self, session: Session, play: Play) -> None:
        assert play.case is not None  # paper checked at the window where sharing failed
        paper = [v.id for v in play.case.verifications if v.ask_for_paper]
        act = ActionIn(action="accept", payload={"paper_checked": paper})
        self._act(session, play, self.cast.clerk, act)

    def _reviewer(
        self, department: str, action: str, payload: dict[str, Any] | None = None, note: str = ""
    ) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            act = ActionIn(action=action, note=note, payload=payload or {})
            self._act(session, play, self.cast.reviewer(department), act)

        return step

    def _task(self, department: str, action: str) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            assert play.case is not None
            task = next(t for t in play.case.tasks if t.department_code == department)
            note = "材料不符合法定条件" if action == "deny_task" else ""
            act = ActionIn(action=action, note=note, payload={"task_id": task.id})
            self._act(session, play, self.cast.reviewer(department), act)

        return step

    def _rate(self, level: int, comment: str) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            assert play.case is not None  # from the rating pad at the window
            indicators = {k: level for k in ("overall", "service_efficiency", "service_attitude")}
            data = RatingCreate(level=level, indicators=indicators, comment=comment)
            rating = feedback_service.rate_case(
                session, actor=self.cast.clerk, case_no=play.case.case_no, data=data
            )
            play.follow_up_id = rating.follow_up.id if rating.follow_up else None
            self.report.ratings += 1

        return step

    def _follow_up(self, action: str) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            assert play.follow_up_id is not None
            feedback_service.act_on_follow_up(
                session,
                actor=self.cast.reviewer(play.lead),
                follow_up_id=play.follow_up_id,
                data=FollowUpActionIn(action=action, note="已电话回访申请人，说明并改进"),
            )

        return step

    def _file(self, category: str) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            single = play.bundle_code is None
            data = ComplaintCreate(
                category=category,
                target_kind="item" if single else "department",
                target_ref=play.item_codes[0] if single else play.lead,
                text=COMPLAINT_TEXTS[category],
                contact_name=play.person.name,
                contact_phone=play.person.phone,
            )
            filed = feedback_service.file_complaint(session, actor=None, data=data)
            play.complaint = (filed.complaint_no, filed.query_code or "")
            self.report.complaints += 1

        return step

    def _handle(self, action: str, note: str) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            assert play.complaint is not None
            feedback_service.act(
                session,
                actor=self.cast.reviewer(play.lead),
                complaint_no=play.complaint[0],
                data=ComplaintActionIn(action=action, note=note),
            )

        return step

    def _confirm(self, session: Session, play: Play) -> None:
        assert play.complaint is not None
        number, code = play.complaint
        feedback_service.act(
            session,
            actor=None,
            complaint_no=number,
            data=ComplaintActionIn(action="confirm"),
            code=code,
        )
