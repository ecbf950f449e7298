"""A realistic audit log for the demo: staff reading the demo cases they handle.

The sample cases and the staff's later reads of them run on one timeline, in time
order, so that the log reads like a real fortnight at the 政务服务中心: everything
on working days in office hours (no spurious off-hours alerts, whenever the demo
is loaded), the window clerk and the reviewers of the departments with tasks
opening the cases they work on, some twice on different days, and one reviewer
asking to see an applicant's identity number with a purpose. Everything goes
through the cases service, so each read is masked and recorded exactly as in
production.
"""

from __future__ import annotations

import heapq
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

from sqlalchemy.orm import Session

from tongban.access import service as access_service
from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.cases.schemas import CaseDetail
from tongban.kit.clock import SHANGHAI, frozen, local_today, to_local
from tongban.workdays import service as workdays_service

OFFICE_OPENS = time(9, 0)
# The reviewer who checks an applicant's identity before an on-site inspection (勘察).
UNMASK_REASON = ("identity_check", "现场勘察前电话预约，核对经营者身份")
SECOND_READ_AFTER = 3  # working days: a case still open is looked at again


@dataclass(order=True)
class _Step:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


class Timeline:
    """Demo steps at given moments, run in time order with the clock frozen at each."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.calendar = workdays_service.calendar(session)
        # Everything happens up to the last working day before today: in the past, in hours.
        self.last_day = self.working_day(local_today() - timedelta(days=1))
        self._steps: list[_Step] = []
        self._order = itertools.count()
        self._cases_planned = 0
        self.reads = 0

    def working_day(self, on_or_before: date) -> date:
        day = on_or_before
        while not self.calendar.is_workday(day):
            day -= timedelta(days=1)
        return day

    def workday_after(self, day: date, n: int) -> date | None:
        """The n-th working day after ``day``; None if that is not in the past yet."""
        for _ in range(n):
            day += timedelta(days=1)
            while not self.calendar.is_workday(day):
                day += timedelta(days=1)
        return day if day <= self.last_day else None

    def office_time(self, day: date, minutes: int) -> datetime:
        """``minutes`` after opening, at some second of that minute.

        People do not click on the minute; it also gives every demo log its own first
        entry (the log's origin), so its checkpoints never pass for another log's in a
        shared witness file.
        """
        local = datetime.combine(day, OFFICE_OPENS, tzinfo=SHANGHAI) + timedelta(
            minutes=minutes, microseconds=secrets.randbelow(60_000_000)
        )
        return local.astimezone(UTC)

    def days_ago(self, days: int, minutes: int) -> datetime:
        """A moment in office hours about ``days`` before the last working day."""
        return self.office_time(self.working_day(self.last_day - timedelta(days=days)), minutes)

    def at(self, moment: datetime, run: Callable[[], None]) -> None:
        heapq.heappush(self._steps, _Step(moment, next(self._order), run))

    def run(self) -> None:
        while self._steps:
            step = heapq.heappop(self._steps)
            with frozen(step.at):
                step.run()

    def plan_reads(self, case: CaseDetail) -> None:
        """The staff who handle ``case`` open it on the working days after it came in."""
        slot = self._cases_planned
        self._cases_planned += 1
        submitted = to_local(case.submitted_at).date()
        handlers = [("clerk", 0), *((name, 60) for name in self._reviewers_of(case))]
        for username, offset in handlers:
            first = self.workday_after(submitted, 1)
            if first is None:
                continue
            self._read(username, case.case_no, self.office_time(first, offset + 7 * slot))
            again = self.workday_after(submitted, 1 + SECOND_READ_AFTER)
            if again is not None:
                self._read(username, case.case_no, self.office_time(again, 360 + offset + 7 * slot))
        if case.state == "suspended" and (day := self.workday_after(submitted, 2)) is not None:
            for username in self._reviewers_of(case)[:1]:
                self.at(
                    self.office_time(day, 120 + 7 * slot),
                    partial(self._unmask, username, case.case_no),
                )

    def _reviewers_of(self, case: CaseDetail) -> list[str]:
        departments = {task.department_code for task in case.tasks}
        return sorted(
            r.username
            for r in access_service.reviewers(self.session)
            if r.department_code in departments
        )

    def _read(self, username: str, case_no: str, moment: datetime) -> None:
        def read() -> None:
            case_service.get_case(self.session, actor=self._actor(username), case_no=case_no)
            self.reads += 1

        self.at(moment, read)

    def _unmask(self, username: str, case_no: str) -> None:
        reason_code, reason_text = UNMASK_REASON
        case_service.unmasked_case(
            self.session,
            actor=self._actor(username),
            case_no=case_no,
            fields=["case.applicant_id_number"],
            reason_code=reason_code,
            reason_text=reason_text,
        )
        self.reads += 1

    def _actor(self, username: str) -> Actor:
        actor = access_service.actor_by_username(self.session, username)
        if actor is None:
            raise LookupError(f"demo user missing: {username}")
        return actor
