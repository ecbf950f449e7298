"""Every open case has an owner until it ends: each non-final state of the transition table
is listed by at least one role's work queue, and the SQL of the queues agrees with the
rules they are written from (cases.queue_rules)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from support import act, bundle_named, clerk, item_named, make_user, reviewer_for, submit
from tongban.access.rules import Actor, Role
from tongban.cases import queue_rules, queues
from tongban.cases import service as case_service
from tongban.cases.models import Case
from tongban.cases.queue_rules import owned_queues
from tongban.cases.rules import TERMINAL_STATES, State
from tongban.cases.schemas import CaseDetail, CasePage, TaskPage
from tongban.kit.clock import SHANGHAI, frozen, now
from tongban.kit.ids import make_uscc

DIBAO = "最低生活保障申请"
NEW_COMPANY = make_uscc("91640425MA76QY001")  # issued by 企业设立登记 (fictional)


def listed(session: Session, actor: Actor, case_no: str) -> list[str]:
    """The actor's queues whose lists show the case (through the service, as a page would)."""
    found = []
    for queue in owned_queues(actor):
        page = case_service.work_queue(session, actor=actor, kind=queue.value, size=100)
        numbers = (
            [t.case_no for t in page.items]
            if isinstance(page, TaskPage)
            else [c.case_no for c in page.items]
        )
        if case_no in numbers:
            found.append(queue.value)
    return found


def owners(session: Session, staff: list[Actor], case: CaseDetail) -> dict[str, list[str]]:
    seen = {a.username: listed(session, a, case.case_no) for a in staff}
    row = session.query(Case).filter_by(case_no=case.case_no).one()
    for actor in staff:  # the SQL and the rules say the same
        expected = [q.value for q in queue_rules.queues_listing(actor, queues.facts_of(row))]
        assert seen[actor.username] == expected, (actor.username, case.state)
    return {name: found for name, found in seen.items() if found}


def test_every_open_state_waits_in_someones_queue(demo_session: Session) -> None:
    s = demo_session
    window = clerk(s)
    admin = make_user(s, "admin", region_code="640425")
    item = item_named(s, DIBAO)
    department = reviewer_for(s, item.department_code)
    staff = [window, admin, department, reviewer_for(s, "11640425MB00002TBX")]
    walked: dict[str, dict[str, list[str]]] = {}

    def check(case: CaseDetail) -> CaseDetail:
        found = owners(s, staff, case)
        assert found, f"no queue lists a case in state {case.state}"
        walked.setdefault(case.state, found)
        return case

    case = check(submit(s, window, item_code=item.code))
    case = check(act(s, window, case, "start_prereview"))
    case = check(act(s, window, case, "request_supplement", missing=["家庭经济状况核对授权书"]))
    case = check(act(s, window, case, "supplement"))
    case = check(act(s, window, case, "accept"))
    assert walked[State.IN_REVIEW] == {department.username: ["tasks"]}
    case = check(act(s, department, case, "request_supplement", missing=["收入证明"]))
    case = check(act(s, window, case, "supplement"))
    case = check(act(s, department, case, "start_special", kind="公示"))
    case = check(act(s, department, case, "finish_special"))
    task = case.tasks[0].id
    case = check(act(s, department, case, "approve_task", task_id=task))
    # Reviewed, waiting for the decision of the department that leads it.
    assert owners(s, staff, case) == {department.username: ["decide"]}
    case = check(act(s, department, case, "decide", decision="approve"))
    assert owners(s, staff, case) == {window.username: ["close"]}
    case = check(act(s, window, case, "close"))
    assert owners(s, staff, case) == {window.username: ["deliver"]}
    done = act(s, window, case, "deliver", method="pickup")
    assert owners(s, staff, done) == {}

    open_states = {state.value for state in State} - {state.value for state in TERMINAL_STATES}
    assert set(walked) == open_states


def test_overdue_cases_are_supervised(demo_session: Session) -> None:
    s = demo_session
    window = clerk(s)
    admin = make_user(s, "admin", region_code="640425")
    item = item_named(s, DIBAO)
    department = reviewer_for(s, item.department_code)
    long_ago = datetime.now(SHANGHAI) - timedelta(days=90)
    with frozen(long_ago):
        case = submit(s, window, item_code=item.code)
        case = act(s, window, case, "accept")
    assert case.state == State.IN_REVIEW and now() > long_ago
    found = owners(s, [window, admin, department], case)
    assert found == {
        window.username: ["overdue"],
        admin.username: ["overdue"],
        department.username: ["tasks", "overdue"],
    }
    counts = {q.kind: q.count for q in case_service.queue_overview(s, actor=admin).queues}
    assert counts == {"overdue": 1}


def test_the_lead_department_sees_and_decides_its_bundle(demo_session: Session) -> None:
    """企业开办一件事 is led by 行政审批服务局, which handles none of its items."""
    s = demo_session
    window = clerk(s)
    bundle = bundle_named(s, "企业开办")
    lead = reviewer_for(s, bundle.lead_department_code)
    assert all(i.department_code != lead.department_code for i in bundle.items)
    case = submit(s, window, bundle_code=bundle.code)
    case = act(s, window, case, "accept")
    seen = case_service.get_case(s, actor=lead, case_no=case.case_no)  # no 404
    assert "decide" not in seen.allowed_actions  # its departments are still at work
    reviewers = {t.department_code: reviewer_for(s, t.department_code) for t in case.tasks}
    while any(t.state in ("pending", "waiting") for t in case.tasks):
        task = next(t for t in case.tasks if t.state == "pending")
        extra = {"issued": {"uscc": NEW_COMPANY}} if "设立登记" in task.item_name else {}
        case = act(
            s, reviewers[task.department_code], case, "approve_task", task_id=task.id, **extra
        )
    page = case_service.work_queue(s, actor=lead, kind="decide")
    assert isinstance(page, CasePage)
    assert [c.case_no for c in page.items] == [case.case_no]
    decided = act(s, lead, case, "decide", decision="approve")
    assert decided.state == State.DECIDED
    assert decided.events[-1].actor_role == Role.REVIEWER
