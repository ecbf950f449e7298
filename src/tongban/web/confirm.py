"""A page of its own before an action that cannot be undone (不予受理, 撤回, 不予许可, a
department's 不通过).

The first POST of such an action stores nothing: it answers with a page that says what
will happen, repeats what was entered, and posts the same fields again with
``confirmed=1``. It needs no JavaScript, and a second click on the case page is never
enough by accident: the confirmation is a different page with a different button.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData, UploadFile

from tongban.access.rules import Actor
from tongban.web import i18n
from tongban.web.csrf import FIELD as CSRF_FIELD
from tongban.web.i18n import _
from tongban.web.rendering import render

CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Consequence:
    title: str
    warning: str
    button: str
    note_required: bool


# What each irreversible action does, in the words the confirmation page uses.
CONSEQUENCES = {
    "refuse": Consequence(
        _("确认不予受理"),
        _("不予受理后本办件即告终结，申请人会收到不予受理告知。此操作不能撤销。"),
        _("确认不予受理"),
        True,
    ),
    "deny": Consequence(
        _("确认不予许可"),
        _("将作出不予许可的决定并出具决定书，申请人会收到通知。此操作不能撤销。"),
        _("确认不予许可"),
        True,
    ),
    "deny_task": Consequence(
        _("确认审查不通过"),
        _("本部门的审查意见将记为不通过，提交后不能更改。"),
        _("确认不通过"),
        True,
    ),
    "withdraw": Consequence(
        _("确认撤回申请"),
        _("撤回后本申请即告终止，已提交的材料不再办理；如仍需办理，须重新申请。"),
        _("确认撤回"),
        False,
    ),
}


def consequence_of(form: FormData) -> Consequence | None:
    """The consequence to confirm, or None when the action is reversible or confirmed."""
    if form.get(CONFIRMED) == "1":
        return None
    action = str(form.get("action") or "")
    if action == "decide":
        return CONSEQUENCES["deny"] if form.get("decision") == "deny" else None
    return CONSEQUENCES.get(action)


def missing_reason(form: FormData, consequence: Consequence) -> bool:
    return consequence.note_required and not str(form.get("note") or "").strip()


def confirmation_page(
    request: Request,
    *,
    actor: Actor,
    consequence: Consequence,
    form: FormData,
    case_url: str,
    case_no: str,
) -> Response:
    """The page that re-posts ``form`` (its text fields) with ``confirmed=1`` to the case's
    actions (``case_url``/actions), or goes back to the case."""
    carried = [
        (name, str(value))
        for name, value in form.multi_items()
        if name not in (CSRF_FIELD, CONFIRMED) and not isinstance(value, UploadFile)
    ]
    gettext = i18n.gettext_for(request)
    context = {
        "actor": actor,
        "title": gettext(consequence.title),
        "warning": gettext(consequence.warning),
        "button": gettext(consequence.button),
        "note": str(form.get("note") or "").strip(),
        "carried": carried,
        "action_url": f"{case_url}/actions",
        "back_url": case_url,
        "case_no": case_no,
    }
    return render(request, "confirm.html", context)
