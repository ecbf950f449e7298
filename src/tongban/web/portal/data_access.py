"""我的数据被谁用了: the signed-in applicant sees which staff read their data, when and why."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tongban.audit import service as audit_service
from tongban.deps import SessionDep
from tongban.web.auth import Applicant
from tongban.web.rendering import paged, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 20


@router.get("/my/data-accesses")
def my_data_accesses(
    request: Request, session: SessionDep, actor: Applicant, page: int = 1
) -> Response:
    page = max(page, 1)
    accesses = audit_service.my_data_accesses(session, actor=actor, page=page, size=PAGE_SIZE)
    context = {"actor": actor, "accesses": accesses, **paged(accesses)}
    return render(request, "portal/data_accesses.html", context)
