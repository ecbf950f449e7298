"""The demo history's steps: each plays one service call as the right person, at its moment.

A mixin of the planner (demo/history.py), which supplies the cast, the catalog, the
registers and the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tongban.access.rules import Actor
from tongban.cases import service as case_service
from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, MaterialIn
from tongban.catalog.schemas import ItemRead
from tongban.demo.cases import SAMPLE_PDF, sample_form
from tongban.demo.history_model import KEY_PREFIX, Cast, HistoryReport, Play
from tongban.feedback import service as feedback_service
from tongban.feedback.schemas import (
    ComplaintActionIn,
    ComplaintCreate,
    FollowUpActionIn,
    RatingCreate,
)
from tongban.kit.ids import make_uscc

# The rating indicators of each channel (GB/T 39734: online, and the window's rating pad).
ONLINE_INDICATORS = ("overall", "efficiency", "guide_accuracy", "convenience", "usability")
OFFLINE_INDICATORS = ("overall", "service_efficiency", "service_attitude")

COMPLAINT_TEXTS = {
    "efficiency": "办理时间太长，多次询问进度都说还在审核。",
    "attitude": "窗口工作人员态度有些生硬，希望改进。",
    "guide": "办事指南上的材料清单和窗口要求不一致。",
    "system": "网上申报页面上传材料时多次失败。",
}


class Steps:
    """Step factories: ``(session, play) -> None`` callables the planner schedules."""

    cast: Cast
    report: HistoryReport
    items: dict[str, ItemRead]

    def _partner(self) -> Any:
        """Another registered person (the other party of a 结婚登记)."""
        raise NotImplementedError

    def _relatives(self, county: str, count: int) -> list[Any]:
        """Registered people of the applicant's county (a household's other members)."""
        raise NotImplementedError

    def _submit(self, session: Session, play: Play) -> None:
        filer = self._filer(session, play)
        person = play.person
        items = [self.items[code] for code in play.item_codes]
        plan = case_service.application_plan(  # a bundle asks each material once
            session,
            item_code=None if play.bundle_code else play.item_codes[0],
            bundle_code=play.bundle_code,
        )
        materials = [
            MaterialIn(requirement_id=m.id, upload_id=self._upload(session, filer))
            for _, m in plan.asked
            if plan.must_upload(m)
        ]
        form = sample_form(items, id_number=person.id_number)
        if "partner_id" in form:  # 结婚登记: the other party is registered too
            partner = self._partner()
            form |= {"partner_id": partner.id_number, "partner_name": partner.name}
        if "family_members" in form:  # 低保: the household's other members, registered too
            members = self._relatives(person.id_number[:6], play.index % 4)
            form["family_members"] = "\n".join(m.id_number for m in members)
        # Online for oneself: the identity and number come from the account.
        applicant = ApplicantIn()
        if not play.online:
            applicant = ApplicantIn(
                name=person.name, id_number=person.id_number, phone=person.phone
            )
        if play.enterprise is not None:  # filed for the enterprise by its contact person
            code = play.enterprise.credit_code
            if play.online:  # by its legal representative, who links it to the account first
                self.cast.link(session, filer, play.enterprise)
            applicant = ApplicantIn(
                kind="enterprise",
                name=play.enterprise.name,
                credit_code=code,
                phone=person.phone,
                contact_name=person.name,
            )
            form |= {name: code for name in _credit_code_fields(items)}
        data = CaseCreate(
            item_code=None if play.bundle_code else play.item_codes[0],
            bundle_code=play.bundle_code,
            applicant=applicant,
            form=form,
            materials=materials,
            channel="online" if play.online else "window",
            elder_mode=play.elder_mode,
            delivery=play.delivery,
        )
        key = f"{KEY_PREFIX}{play.index:05d}"
        play.case = case_service.submit_case(session, actor=filer, data=data, idempotency_key=key)
        self.report.cases += 1

    def _filer(self, session: Session, play: Play) -> Actor:
        """The citizen's own account online (made now, at the first application), else the
        window that takes the case."""
        if play.citizen is None:
            return self.cast.clerk_for(play.index)
        return self.cast.citizen(session, play.citizen)

    def _upload(self, session: Session, clerk: Actor) -> str:
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
            self._act(session, play, self.cast.clerk_for(play.index), act)

        return step

    def _by_applicant(self, action: str, note: str = "") -> Callable[[Session, Play], None]:
        """补正 or withdrawal: online by the applicant; at the window, recorded by the clerk."""

        def step(session: Session, play: Play) -> None:
            act = ActionIn(action=action, note=note)
            self._act(session, play, self._filer(session, play), act)

        return step

    def _download(self, session: Session, play: Play) -> None:
        """The applicant fetches the 决定书: the first download records the delivery."""
        assert play.case is not None
        case_service.decision_document(
            session, actor=self._filer(session, play), case_no=play.case.case_no
        )

    def _accept(self, session: Session, play: Play) -> None:
        assert play.case is not None  # paper checked at the window where sharing failed
        paper = [v.id for v in play.case.verifications if v.ask_for_paper]
        act = ActionIn(action="accept", payload={"paper_checked": paper})
        self._act(session, play, self.cast.clerk_for(play.index), act)

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
            task = next(
                t
                for t in play.case.tasks
                if t.department_code == department and t.state == "pending"
            )
            payload: dict[str, Any] = {"task_id": task.id}
            issues = self.items[task.item_code].issues
            if action == "approve_task" and issues:  # 企业设立登记 issues the company's code
                code = make_uscc(f"91640425MA7{play.index:06d}")
                payload["issued"] = {field: code for field in issues}
            note = "材料不符合法定条件" if action == "deny_task" else ""
            act = ActionIn(action=action, note=note, payload=payload)
            self._act(session, play, self.cast.reviewer(department), act)

        return step

    def _rate(self, level: int, comment: str) -> Callable[[Session, Play], None]:
        def step(session: Session, play: Play) -> None:
            assert play.case is not None  # online by the applicant, or on the window's pad
            names = ONLINE_INDICATORS if play.online else OFFLINE_INDICATORS
            indicators = {name: level for name in names}
            data = RatingCreate(level=level, indicators=indicators, comment=comment)
            rating = feedback_service.rate_case(
                session,
                actor=self._filer(session, play),
                case_no=play.case.case_no,
                data=data,
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
            # Online applicants complain from their account, the others anonymously.
            actor = self._filer(session, play) if play.online else None
            filed = feedback_service.file_complaint(session, actor=actor, data=data)
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
        # A holiday between the result and the planned confirmation (国庆: 1–2 working days
        # are 9 calendar days) lets the worker confirm it first, after its 7 days.
        actor = self._filer(session, play) if play.online else None
        found = feedback_service.get_complaint(
            session, actor=actor, complaint_no=number, code=None if actor else code
        )
        if found.state != "resolved":
            return
        feedback_service.act(
            session,
            actor=actor,
            complaint_no=number,
            data=ComplaintActionIn(action="confirm"),
            code=None if actor else code,
        )


def _credit_code_fields(items: list[ItemRead]) -> list[str]:
    """Form fields that hold a 统一社会信用代码 (18 characters)."""
    return [
        name
        for item in items
        for name, prop in item.form_schema.get("properties", {}).items()
        if "{18}" in prop.get("pattern", "")
    ]
