"""The acceptance queue (window) and the department task queue (reviewers)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.cases import service as cases_service
from tongban.deps import SessionDep
from tongban.web.auth import HOME_BY_ROLE, Staff
from tongban.web.rendering import paged, redirect, render

router = APIRouter(prefix="/workbench", include_in_schema=False)
PAGE_SIZE = 20
TASK_PAGE_SIZE = 50


@router.get("")
def workbench_home(actor: Staff) -> Response:
    return redirect(HOME_BY_ROLE[actor.role])


@router.get("/acceptance")
def acceptance(request: Request, session: SessionDep, actor: Staff, page: int = 1) -> Response:
    page = max(page, 1)
    queue = cases_service.acceptance_queue(session, actor=actor, page=page, size=PAGE_SIZE)
    context = {"actor": actor, "queue": queue, **paged(queue)}
    return render(request, "workbench/acceptance.html", context)


@router.get("/tasks")
def tasks(request: Request, session: SessionDep, actor: Staff, page: int = 1) -> Response:
    page = max(page, 1)
    queue = cases_service.task_queue(session, actor=actor, page=page, size=TASK_PAGE_SIZE)
    context = {"actor": actor, "queue": queue, **paged(queue)}
    return render(request, "workbench/tasks.html", context)
