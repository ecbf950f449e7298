"""Durability under a power cut (issue 11, "must show"): a window clerk's applications
arrive at once — each uploads its materials, then submits with an Idempotency-Key — and
the server and its workers are killed with SIGKILL in the middle. After a restart on the
same database and files, every case the server acknowledged is there with the very bytes
that were uploaded, a retry with the same key gives the same case (never a second one),
an application cut off before its answer can be sent again, and the audit log verifies."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from load.load_support import Server, bearer, start
from support import PDF, item_named, person_id, sample_form
from tongban.audit import service as audit_service
from tongban.cases import service as case_service
from tongban.db import session_factory

APPLICATIONS = 60
KILL_AFTER_ACKNOWLEDGED = 12
ITEM = "个体工商户"


@dataclass
class Application:
    """One applicant's files and form, and what the server answered."""

    key: str
    files: dict[int, bytes]
    uploads: dict[int, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)
    case_no: str | None = None


def _body(item: Any, uploads: dict[int, str]) -> dict[str, Any]:
    return {
        "item_code": item.code,
        "applicant": {"name": "王五", "id_number": person_id(4), "phone": "13900002222"},
        "form": sample_form([item]),
        "materials": [{"requirement_id": rid, "upload_id": up} for rid, up in uploads.items()],
        "channel": "window",
    }


async def _apply(
    client: httpx.AsyncClient, base: str, auth: dict[str, str], item: Any, app: Application
) -> None:
    """Upload each file not yet acknowledged, then submit (the same body on a retry)."""
    for rid, content in app.files.items():
        if rid in app.uploads:
            continue
        files = {"file": ("营业场所证明.pdf", content, "application/pdf")}
        answer = await client.post(base + "/api/v1/uploads", headers=auth, files=files)
        assert answer.status_code == 201, answer.text
        app.uploads[rid] = answer.json()["upload_id"]
    app.body = app.body or _body(item, app.uploads)
    headers = {**auth, "Idempotency-Key": app.key}
    answer = await client.post(base + "/api/v1/cases", headers=headers, json=app.body)
    assert answer.status_code == 201, answer.text
    app.case_no = answer.json()["case_no"]


def _burst_then_kill(
    server: Server, auth: dict[str, str], item: Any, apps: list[Application]
) -> None:
    async def run() -> None:
        limits = httpx.Limits(max_connections=len(apps), max_keepalive_connections=0)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            tasks = [
                asyncio.create_task(_apply(client, server.base, auth, item, app)) for app in apps
            ]
            while sum(app.case_no is not None for app in apps) < KILL_AFTER_ACKNOWLEDGED:
                if all(task.done() for task in tasks):
                    break
                await asyncio.sleep(0.005)
            server.kill_hard()
            # the cut-off requests end in connection errors: that is the point
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(run())


def _material_bytes(base: str, auth: dict[str, str], case_no: str) -> dict[int, bytes]:
    detail = httpx.get(f"{base}/api/v1/cases/{case_no}", headers=auth, timeout=30)
    assert detail.status_code == 200, detail.text
    found = {}
    for material in detail.json()["materials"]:
        url = f"{base}/api/v1/cases/{case_no}/materials/{material['id']}"
        answer = httpx.get(url, headers=auth, timeout=30)
        assert answer.status_code == 200, answer.text
        found[material["requirement_id"]] = answer.content
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_no_acknowledged_case_or_file_is_lost_when_the_server_is_killed_mid_burst(
    demo_db: str, tmp_path: Path, workers: int, record_property: Any
) -> None:
    with session_factory(demo_db)() as s:
        item = item_named(s, ITEM)
    required = [m.id for m in item.materials if case_service.must_upload(m)]
    apps = [
        Application(
            key=uuid.uuid4().hex,
            files={rid: PDF + hashlib.sha256(f"{n}-{rid}".encode()).digest() for rid in required},
        )
        for n in range(APPLICATIONS)
    ]
    server = start(demo_db, tmp_path, workers=workers)
    try:
        clerk = bearer(server.base, "clerk")
        _burst_then_kill(server, clerk, item, apps)
    finally:
        server.stop()
    acknowledged = [app for app in apps if app.case_no]
    assert len(acknowledged) >= KILL_AFTER_ACKNOWLEDGED
    assert len(acknowledged) < APPLICATIONS, "the kill came before the burst was over"

    server = start(demo_db, tmp_path, workers=workers)
    try:
        clerk = bearer(server.base, "clerk")
        for app in acknowledged:
            assert _material_bytes(server.base, clerk, str(app.case_no)) == app.files
            again = httpx.post(
                server.base + "/api/v1/cases",
                headers={**clerk, "Idempotency-Key": app.key},
                json=app.body,
                timeout=30,
            )
            assert again.status_code in (200, 201), again.text
            assert again.json()["case_no"] == app.case_no, "a retry never makes a second case"
        resent = _resend_the_cut_off(server.base, clerk, item, apps)
    finally:
        server.stop()
    report = audit_service.verify_log(demo_db)
    assert report.ok, report.problem
    record_property(
        "summary",
        f"kill -9 mid-burst ({'SQLite' if demo_db.startswith('sqlite') else 'PostgreSQL'}, "
        f"{workers} worker(s)): {len(acknowledged)} of {APPLICATIONS} acknowledged before the "
        f"kill, all found with their files; {resent} cut off and sent again",
    )


def _resend_the_cut_off(base: str, auth: dict[str, str], item: Any, apps: list[Application]) -> int:
    """An applicant whose answer never came sends again what was not answered, same key."""
    cut_off = [app for app in apps if not app.case_no]

    async def run() -> None:
        async with httpx.AsyncClient(timeout=60) as client:
            for app in cut_off:
                await _apply(client, base, auth, item, app)

    asyncio.run(run())
    numbers = [app.case_no for app in apps]
    assert None not in numbers and len(set(numbers)) == len(apps)
    return len(cut_off)
