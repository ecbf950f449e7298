"""What leaves the cases domain about a person: the policy's view of it, and its audit record.

Every personal value of a case passes through a ``Viewer`` (privacy.service.present),
which remembers the fields it showed; the read use cases then record one audit entry
per case shown, in the request's own transaction, before they return anything
("no audit record, no data").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from tongban.access.rules import Actor, Role
from tongban.audit import service as audit_service
from tongban.audit.service import Access
from tongban.cases import queue_rules, queues, repository
from tongban.cases.models import Case
from tongban.privacy import service as privacy_service
from tongban.privacy.policy import FormFieldDeclaration, Visibility

# Why a case was read (the audit entry's purpose code).
PURPOSE_HANDLING = "case_handling"
PURPOSE_SELF = "self"
PURPOSE_AGENT = "agent"  # the citizen who filed it for the applicant (委托)
PURPOSE_PROGRESS = "progress_query"

# Policy fields (privacy/policy.toml) of a case.
NAME = "case.applicant_name"
ID_NUMBER = "case.applicant_id_number"
PHONE = "case.applicant_phone"
NOTES = "case.notes"
FILENAME = "upload.filename"
CONTENT = "upload.content"
FORM = privacy_service.FORM_PREFIX
STAFF_NAME = "case.event_actor_name"  # who handled the case: staff data, not the applicant's
APPLICANT_FIELDS = (NAME, ID_NUMBER, PHONE)

# A form field its item has not (yet) classified is treated as personal information
# whose numbers are masked wherever the policy masks personal data: never shown more
# openly than a declared one would be.
UNDECLARED = FormFieldDeclaration(
    category="未声明",
    level="general",
    personal="personal",
    mask="free_text",
    purpose="未声明用途的表单字段",
)


def is_own(actor: Actor | None, case: Case) -> bool:
    """The reader is the data subject: the applicant of this case."""
    return actor is not None and case.applicant_user_id == actor.user_id


def is_handling(actor: Actor | None, case: Case) -> bool:
    """A reviewer whose department leads the case or has a task in it (tasks if loaded)."""
    if actor is None or actor.role != Role.REVIEWER or not actor.department_code:
        return False
    if case.lead_department_code == actor.department_code:
        return True
    if "tasks" in inspect(case).unloaded:
        return False
    return any(task.department_code == actor.department_code for task in case.tasks)


def is_filer(actor: Actor | None, case: Case) -> bool:
    """The reader is the citizen who filed the case for its applicant (their agent under a
    delegation): they see what they entered, as the applicant does; reads say "agent"."""
    return (
        actor is not None
        and actor.role == Role.APPLICANT
        and case.submitted_by_user_id == actor.user_id
        and not is_own(actor, case)
    )


class Viewer:
    """One reader looking at one case: what the policy lets them see, and what they saw."""

    def __init__(
        self,
        actor: Actor | None,
        case: Case,
        *,
        form_schema: dict[str, Any] | None = None,
        unmasked: Collection[str] = (),
    ) -> None:
        self.actor = actor
        self.agent = is_filer(actor, case)
        self.own = is_own(actor, case) or self.agent
        self.schema = form_schema or {}
        self.unmasked = frozenset(unmasked)
        self.shown: list[str] = []
        # A reviewer of a department handling the case sees what the decision rests on.
        self.handling = is_handling(actor, case)

    def show(self, field: str, value: Any, *, subject: bool = True) -> tuple[Visibility, Any]:
        """(visibility, the value as this reader sees it).

        Remembers the fields shown of the data subject's (``subject``) for the audit entry.
        """
        visibility, shown = privacy_service.present(
            field,
            value,
            self.actor,
            own=self.own,
            declaration=self.declaration(field),
            unmasked=self.unmasked,
            handling=self.handling,
        )
        if (
            subject
            and visibility != "hidden"
            and value not in (None, "")
            and field not in self.shown
        ):
            self.shown.append(field)
        return visibility, shown

    def show_form(self, answers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Visibility]]:
        """The form answers this reader may see (hidden ones left out) and how each is shown."""
        shown: dict[str, Any] = {}
        visibilities: dict[str, Visibility] = {}
        for name, value in answers.items():
            visibility, seen = self.show(FORM + name, value)
            visibilities[name] = visibility
            if visibility != "hidden":
                shown[name] = seen
        return shown, visibilities

    def declaration(self, field: str) -> FormFieldDeclaration | None:
        if not field.startswith(FORM):
            return None
        name = field.removeprefix(FORM)
        return privacy_service.form_declaration(self.schema, name) or UNDECLARED

    def unmaskable(self, fields: Iterable[str]) -> list[str]:
        """Of ``fields``, those shown masked that this reader's role may ask to see plain."""
        actor = self.actor
        if actor is None or self.own:
            return []
        return [
            field
            for field in fields
            if privacy_service.may_unmask(
                field, actor, declaration=self.declaration(field), handling=self.handling
            )
        ]

    @property
    def purpose(self) -> str:
        if self.actor is None:
            return PURPOSE_PROGRESS
        if self.agent:
            return PURPOSE_AGENT
        return PURPOSE_SELF if self.own else PURPOSE_HANDLING


def case_fields(case: Case) -> list[str]:
    """Every personal field of a case that a reader may be shown masked."""
    return [*APPLICANT_FIELDS, *(FORM + name for name in (case.form_data or {}))]


def related_ids(session: Session, actor: Actor | None, cases: Sequence[Case]) -> set[int]:
    """The cases tied to the reader's work.

    Tied: the applicant's own case; a case the reader has acted on; a case waiting in
    one of the reader's work queues (cases.queue_rules); for a reviewer, a case in which
    their department has a task or which it leads. Uses the events and tasks already
    loaded, else one query for all the cases.
    """
    if actor is None:
        return set()
    related = {case.id for case in cases if _tied_by_state(actor, case)}
    loaded = [c for c in cases if c.id not in related and _history_loaded(c)]
    related |= {case.id for case in loaded if _tied_by_history(actor, case)}
    others = [c.id for c in cases if c.id not in related and not _history_loaded(c)]
    if others:
        related |= repository.cases_touched_by(
            session,
            user_id=actor.user_id,
            department_code=actor.department_code if actor.role == Role.REVIEWER else None,
            case_ids=others,
        )
    return related


def _tied_by_state(actor: Actor, case: Case) -> bool:
    """Own case, a case the reader's department leads, or one waiting in a queue the
    reader owns whose membership needs no task (window queues, overdue supervision)."""
    if is_own(actor, case) or is_filer(actor, case):
        return True
    if actor.role == Role.REVIEWER:
        return case.lead_department_code == actor.department_code
    if actor.role not in (Role.CLERK, Role.ADMIN):
        return False
    in_queue = queues.facts_of(case, task_states=[])
    # Without its tasks a case "awaits its decision" too early: the window owns it
    # either way (window-decided items), so the reading is tied to the clerk's work.
    return bool(queue_rules.queues_listing(actor, in_queue))


def _history_loaded(case: Case) -> bool:
    return not ({"events", "tasks"} & inspect(case).unloaded)


def _tied_by_history(actor: Actor, case: Case) -> bool:
    if any(event.actor_user_id == actor.user_id for event in case.events):
        return True
    return actor.role == Role.REVIEWER and any(
        task.department_code == actor.department_code for task in case.tasks
    )


def access(
    case: Case,
    viewer: Viewer,
    *,
    related: bool | None,
    action: str = "read",
    fields: Sequence[str] | None = None,
    purpose_code: str | None = None,
    purpose_text: str = "",
) -> Access:
    """The audit entry for ``viewer`` having been shown this case (or its ``fields``)."""
    return Access(
        action=action,
        subject_kind="case",
        subject_ref=case.case_no,
        person_ref=case.applicant_id_index or None,
        fields=tuple(viewer.shown if fields is None else fields),
        purpose_code=purpose_code or viewer.purpose,
        purpose_text=purpose_text,
        related=related,
    )


def record(session: Session, actor: Actor | None, accesses: Sequence[Access]) -> None:
    """Append the entries in this transaction: if this fails, nothing is returned."""
    audit_service.record_many(session, actor=actor, accesses=accesses)
