"""The workbench's landing page (every queue the role owns, with counts) and each queue."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.cases import service as cases_service
from tongban.cases.schemas import TaskPage
from tongban.deps import SessionDep
from tongban.web import labels
from tongban.web.auth import Staff
from tongban.web.rendering import paged, render

router = APIRouter(prefix="/workbench", include_in_schema=False)
PAGE_SIZE = 20
TASK_PAGE_SIZE = 50


@router.get("")
def workbench_home(request: Request, session: SessionDep, actor: Staff) -> Response:
    """Counts only: the landing page reads nobody's personal data."""
    overview = cases_service.queue_overview(session, actor=actor)
    context = {"actor": actor, "overview": overview, "labels": labels}
    return render(request, "workbench/overview.html", context)


@router.get("/queues/{kind}")
def work_queue(
    request: Request,
    kind: str,
    session: SessionDep,
    actor: Staff,
    page: int = 1,
    channel: str | None = None,
) -> Response:
    page = min(max(page, 1), 100000)
    size = TASK_PAGE_SIZE if kind == cases_service.Queue.TASKS else PAGE_SIZE
    queue = cases_service.work_queue(
        session, actor=actor, kind=kind, page=page, size=size, channel=channel or None
    )
    label = cases_service.QUEUE_LABELS[cases_service.Queue(kind)]
    context = {
        "actor": actor,
        "queue": queue,
        "kind": kind,
        "label": label,
        "channel": channel or "",
        "labels": labels,
        **paged(queue),
    }
    template = "workbench/tasks.html" if isinstance(queue, TaskPage) else "workbench/queue.html"
    return render(request, template, context)


@router.get("/acceptance")
def acceptance(request: Request, session: SessionDep, actor: Staff, page: int = 1) -> Response:
    return work_queue(request, "acceptance", session, actor, page)


@router.get("/tasks")
def tasks(request: Request, session: SessionDep, actor: Staff, page: int = 1) -> Response:
    return work_queue(request, "tasks", session, actor, page)
