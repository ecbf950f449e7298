"""No stall, whatever the burst (issue 11 §1): a real `tongban serve` on loopback, 1 and 2
workers, SQLite and PostgreSQL — 200 submissions at once, then 200 reads at once (audited
case reads as the clerk beside anonymous catalog reads): no 5xx, no dropped connection,
every case number distinct. Latencies are printed after the run (figures), not asserted."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from load.load_support import Burst, Call, bearer, burst, serving
from support import PDF, item_named, person_id, sample_form
from tongban.cases import service as case_service
from tongban.db import session_factory

SUBMISSIONS = 200
READS = 200
ITEM = "个体工商户"


def _application(item: Any, uploads: dict[int, str]) -> dict[str, Any]:
    return {
        "item_code": item.code,
        "applicant": {"name": "李四", "id_number": person_id(3), "phone": "13900001111"},
        "form": sample_form([item]),
        "materials": [{"requirement_id": rid, "upload_id": up} for rid, up in uploads.items()],
        "channel": "window",
    }


def _upload(url: str, auth: dict[str, str], content: bytes) -> Call:
    files = {"file": ("证明.pdf", content, "application/pdf")}
    return lambda client: client.post(url, headers=auth, files=files)


def _post(url: str, auth: dict[str, str], body: dict[str, Any], key: str) -> Call:
    headers = {**auth, "Idempotency-Key": key}
    return lambda client: client.post(url, headers=headers, json=body)


def _get(url: str, headers: dict[str, str] | None = None) -> Call:
    return lambda client: client.get(url, headers=headers or {})


def _check(result: Burst, expected: int) -> None:
    assert result.errors == 0, (result.summary(), result.failures[:5])
    assert set(result.statuses) == {expected}, result.summary()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_burst_of_submissions_and_reads_neither_stalls_nor_fails(
    demo_db: str, tmp_path: Path, workers: int, record_property: Any
) -> None:
    backend = "SQLite" if demo_db.startswith("sqlite") else "PostgreSQL"
    with session_factory(demo_db)() as s:
        item = item_named(s, ITEM)
    required = [m.id for m in item.materials if case_service.must_upload(m)]
    figures = []
    with serving(demo_db, tmp_path, workers=workers) as base:
        clerk = bearer(base, "clerk")
        calls = [
            _upload(base + "/api/v1/uploads", clerk, PDF + f"{n}-{rid}".encode())
            for n in range(SUBMISSIONS)
            for rid in required
        ]
        uploads = burst("uploads", calls)
        _check(uploads, 201)
        ids = iter(str(body["upload_id"]) for body in uploads.bodies)
        bodies = [
            _application(item, {rid: next(ids) for rid in required}) for _ in range(SUBMISSIONS)
        ]
        url = base + "/api/v1/cases"
        submissions = burst(
            "submissions",
            [_post(url, clerk, body, uuid.uuid4().hex) for body in bodies],
        )
        _check(submissions, 201)
        numbers = [str(body["case_no"]) for body in submissions.bodies]
        assert len(set(numbers)) == SUBMISSIONS, "every case number is distinct"

        audited = [_get(f"{base}/api/v1/cases/{no}", clerk) for no in numbers[: READS // 2]]
        anonymous = [_get(f"{base}/api/v1/items?q=证&size=5") for _ in range(READS // 2)]
        mixed = [call for pair in zip(audited, anonymous, strict=True) for call in pair]
        reads = burst("reads", mixed)
        _check(reads, 200)
        figures = [uploads, submissions, reads]
    for result in figures:
        record_property("summary", f"burst {backend}, {workers} worker(s), {result.summary()}")
