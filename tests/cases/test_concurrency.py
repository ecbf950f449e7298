"""Concurrency on the real databases: one acceptance wins; case numbers never collide."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from support import applicant, application, clerk, item_named, open_paper_checks, submit
from tongban.cases import service as case_service
from tongban.cases.models import Case
from tongban.cases.schemas import ActionIn
from tongban.db import session_factory, transaction
from tongban.errors import DomainError


def run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def runner(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # collected and asserted on below
            results[index] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_two_clerks_accept_the_same_case_once(demo_db: str) -> None:
    with transaction(demo_db) as s:
        item = item_named(s, "个体工商户")
        person = applicant(s)
        clerks = [clerk(s), clerk(s)]
        case = submit(s, person, item_code=item.code)

    def accept(index: int) -> str:
        with transaction(demo_db) as s:
            detail = case_service.act(
                s,
                actor=clerks[index],
                case_no=case.case_no,
                action=ActionIn(
                    action="accept",
                    version=case.version,
                    payload={"paper_checked": open_paper_checks(case)},
                ),
            )
            return detail.state

    results = run_together(2, accept)
    successes = [r for r in results if r == "in_review"]
    failures = [r for r in results if isinstance(r, DomainError)]
    assert len(successes) == 1, results
    assert len(failures) == 1 and failures[0].status == 409, results
    assert failures[0].code in ("version_conflict", "action_not_allowed_in_state")
    with transaction(demo_db) as s:
        detail = case_service.get_case(s, actor=clerks[0], case_no=case.case_no)
        assert [e.action for e in detail.events].count("accept") == 1
        assert len(detail.tasks) == 1 + len(item.joint_department_codes)


def test_fifty_concurrent_submissions_get_fifty_numbers(demo_db: str) -> None:
    with transaction(demo_db) as s:
        item = item_named(s, "个体工商户")
        people = [applicant(s, sequence=i) for i in range(50)]
        forms = [application(s, p, item_code=item.code) for p in people]

    def file(index: int) -> str:
        with transaction(demo_db) as s:
            return case_service.submit_case(s, actor=people[index], data=forms[index]).case_no

    numbers = run_together(50, file)
    errors = [n for n in numbers if not isinstance(n, str)]
    assert not errors, errors[:3]
    assert len(set(numbers)) == 50
    prefix = numbers[0].rsplit("-", 1)[0]
    assert all(n.startswith(prefix) for n in numbers)
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 51))
    with session_factory(demo_db)() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 50
