"""`tongban demo load` leaves a realistic audit log: staff reading the cases they handle."""

from __future__ import annotations

from collections import defaultdict
from datetime import time

from sqlalchemy import func, select

from tongban.audit import service as audit_service
from tongban.audit.models import AuditAlert, AuditEntry
from tongban.db import session_factory, transaction
from tongban.demo.cases import STORIES, load_sample_cases
from tongban.kit.clock import to_local
from tongban.workdays import service as workdays_service


def test_the_demo_leaves_staff_reads_in_office_hours_that_verify(demo_db: str) -> None:
    with transaction(demo_db) as s:
        assert load_sample_cases(s) == len(STORIES)
    with session_factory(demo_db)() as s:
        log = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        calendar = workdays_service.calendar(s)
        alerts = s.scalar(select(func.count()).select_from(AuditAlert))

    staff_reads = [e for e in log if e.action == "read" and e.actor_role in ("clerk", "reviewer")]
    readers = {e.actor_username for e in staff_reads}
    assert "clerk" in readers and len(readers - {"clerk"}) >= 2  # reviewers of several departments
    # Some cases are opened again by the same person on a later day.
    days: defaultdict[tuple[str, str], set[object]] = defaultdict(set)
    for entry in staff_reads:
        days[(entry.actor_username, entry.subject_ref)].add(to_local(entry.at).date())
    assert sum(len(d) >= 2 for d in days.values()) >= 3
    # Every read names the person and is tied to the reader's work: nothing to alert on.
    assert all(e.person_ref and e.related for e in staff_reads)
    assert alerts == 0

    (unmask,) = [e for e in log if e.action == "unmask"]
    assert unmask.actor_role == "reviewer" and unmask.fields == ["case.applicant_id_number"]
    assert unmask.purpose_code == "identity_check" and len(unmask.purpose_text) >= 4

    # A working fortnight: in time order, on working days, in office hours (the load's
    # own privileged actions — items saved, accounts created — happen now).
    moments = [to_local(e.at) for e in log if e.action in ("read", "unmask", "download")]
    assert moments == sorted(moments)
    assert all(calendar.is_workday(m.date()) and time(9) <= m.time() < time(18) for m in moments)
    assert audit_service.verify_log(demo_db).ok


def test_loading_the_cases_twice_reads_nothing_more(demo_db: str) -> None:
    with transaction(demo_db) as s:
        load_sample_cases(s)
    with session_factory(demo_db)() as s:
        before = s.scalar(select(func.count()).select_from(AuditEntry))
    with transaction(demo_db) as s:
        assert load_sample_cases(s) == 0
    with session_factory(demo_db)() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before
