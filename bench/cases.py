"""Case throughput: submit + accept through the service layer vs. bare SQL of the same shape.

Run: .venv/bin/python bench/cases.py [--cases N] [--backends sqlite,postgresql] [--rounds R]

For each database it prints cases/s through tongban (submit in one transaction,
accept in another — validation, numbering, events, tasks, clock), the rate of
bare SQL transactions of similar shape on the same database in the same run, and
their ratio. Target: ratio >= 0.25. The two are measured in R (6) alternating rounds
and the times summed, so that a swing in the machine's load hits both alike.

The bare transactions write the rows our schema needs for one case with one
material: insert case + material + event, then update case + insert event +
task (a case with materials always writes a material row; the baseline used to
leave it out). They do no reads and no validation: that difference is what the
ratio measures.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from tongban.access.rules import Actor

PG_ADMIN = os.environ.get(
    "TONGBAN_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PDF = b"%PDF-1.4\n% tongban bench\n" + b"0" * 2048


def make_database(backend: str, workdir: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    name = f"tongban_bench_{uuid.uuid4().hex[:8]}"
    with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    if url.startswith("postgresql"):
        from tongban.db import get_engine

        get_engine(url).dispose()
        name = url.rsplit("/", 1)[1]
        with create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def setup(url: str) -> tuple[Actor, Actor, str, list[int]]:
    from tongban.access import service as access_service
    from tongban.access.rules import Role
    from tongban.cases import service as case_service
    from tongban.catalog import service as catalog_service
    from tongban.db import transaction, upgrade
    from tongban.demo.loader import load_reference_data
    from tongban.kit.ids import make_id_number

    upgrade(url)
    with transaction(url) as session:
        load_reference_data(session)
    with transaction(url) as session:
        items = catalog_service.search_items(session, q="个体工商户登记", size=1).items
        item = catalog_service.get_item(session, code=items[0].code)
        applicant = access_service.create_user(  # a verified citizen applying for herself
            session,
            username="bench_applicant",
            password="Bench2026x",
            role="applicant",
            display_name="测试申请人",
            id_number=make_id_number("640425", date(1980, 1, 1), 1),
        )
        clerk = access_service.create_user(
            session,
            username="bench_clerk",
            password="Bench2026x",
            role="clerk",
            region_code=item.region_code,
        )
        applicant_actor = access_service.actor_for(applicant)
        clerk_actor = access_service.actor_for(clerk)
    required = [m.id for m in item.materials if case_service.must_upload(m)]
    assert applicant_actor.role == Role.APPLICANT
    return applicant_actor, clerk_actor, item.code, required


def fill_form(url: str, item_code: str) -> dict[str, object]:
    from tongban.catalog import service as catalog_service
    from tongban.db import transaction
    from tongban.demo.cases import sample_form

    with transaction(url) as session:
        item = catalog_service.get_item(session, code=item_code)
    return sample_form([item], id_number="")


def prepare_tongban(url: str, n: int) -> Callable[[int, int], float]:
    """Reference data, accounts and ``n`` cases' uploads (not measured); returns a function
    that submits and accepts cases ``first`` to ``last`` - 1 and says how long it took."""
    from tongban.cases import service
    from tongban.cases.schemas import ActionIn, ApplicantIn, CaseCreate, MaterialIn
    from tongban.db import transaction

    applicant, clerk, item_code, required = setup(url)
    form = fill_form(url, item_code)
    uploads: list[list[str]] = []
    with transaction(url) as session:  # uploads are not part of the measured path
        for i in range(n):
            uploads.append(
                [
                    service.save_upload(
                        session, actor=applicant, filename="a.pdf", content=PDF + str(i).encode()
                    ).upload_id
                    for _ in required
                ]
            )

    def run(first: int, last: int) -> float:
        started = time.perf_counter()
        for i in range(first, last):
            data = CaseCreate(
                item_code=item_code,
                applicant=ApplicantIn(phone="13995400000"),
                form=form,
                materials=[
                    MaterialIn(requirement_id=r, upload_id=u)
                    for r, u in zip(required, uploads[i], strict=True)
                ],
            )
            with transaction(url) as session:
                case = service.submit_case(session, actor=applicant, data=data)
            with transaction(url) as session:
                # The clerk has the paper of whatever shared data could not confirm.
                paper = [v.id for v in case.verifications if v.ask_for_paper]
                service.act(
                    session,
                    actor=clerk,
                    case_no=case.case_no,
                    action=ActionIn(
                        action="accept", version=case.version, payload={"paper_checked": paper}
                    ),
                )
        return time.perf_counter() - started

    return run


def prepare_baseline(url: str) -> Callable[[int, int], float]:
    """The bare tables; returns a function that writes cases ``first`` to ``last`` - 1."""
    from tongban.db import get_engine

    engine = get_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE bench_case (id INTEGER PRIMARY KEY, no VARCHAR(32) UNIQUE,"
                " state VARCHAR(16), version INTEGER, form TEXT)"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE bench_event (id INTEGER PRIMARY KEY, case_id INTEGER,"
                " seq INTEGER, action VARCHAR(32), note TEXT)"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE bench_task (id INTEGER PRIMARY KEY, case_id INTEGER,"
                " dept VARCHAR(18), state VARCHAR(16))"
            )
        )
        conn.execute(
            text(
                "CREATE TABLE bench_material (id INTEGER PRIMARY KEY, case_id INTEGER,"
                " requirement_id INTEGER, upload_id INTEGER, status VARCHAR(16))"
            )
        )

    def run(first: int, last: int) -> float:
        started = time.perf_counter()
        for i in range(first, last):
            _bare_case(engine, i)
        return time.perf_counter() - started

    return run


def _bare_case(engine: Any, i: int) -> None:
    """One case in bare SQL: submit (case, material, event), then accept."""
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO bench_case VALUES (:i, :no, 'submitted', 1, '{}')"),
            {"i": i, "no": f"B-{i:06d}"},
        )
        conn.execute(
            text("INSERT INTO bench_material VALUES (:i, :i, 1, :i, 'submitted')"),
            {"i": i},
        )
        conn.execute(
            text("INSERT INTO bench_event VALUES (:e, :i, 1, 'submit', '')"),
            {"e": 2 * i, "i": i},
        )
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE bench_case SET state='in_review', version=version+1"
                " WHERE id=:i AND version=1"
            ),
            {"i": i},
        )
        conn.execute(
            text("INSERT INTO bench_event VALUES (:e, :i, 2, 'accept', '')"),
            {"e": 2 * i + 1, "i": i},
        )
        conn.execute(text("INSERT INTO bench_task VALUES (:i, :i, 'D', 'pending')"), {"i": i})


def measure(url: str, n: int, rounds: int) -> tuple[float, float]:
    """(tongban cases/s, bare SQL cases/s), measured in alternating rounds of n / rounds
    cases each: on a shared machine the load swings within a run, and two long
    measurements one after the other would each catch a different load."""
    ours, bare = prepare_tongban(url, n), prepare_baseline(url)
    ours_seconds = bare_seconds = 0.0
    bounds = [n * r // rounds for r in range(rounds + 1)]
    for first, last in itertools.pairwise(bounds):
        ours_seconds += ours(first, last)
        bare_seconds += bare(first, last)
    return n / ours_seconds, n / bare_seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["TONGBAN_STORAGE_DIR"] = str(Path(tmp) / "files")
        os.environ["TONGBAN_SECRET_KEY"] = "bench-only-key"
        print(f"{'database':<11} {'tongban cases/s':>16} {'bare SQL/s':>11} {'ratio':>7}")
        worst = float("inf")
        for backend in args.backends.split(","):
            url = make_database(backend, Path(tmp))
            try:
                ours, base = measure(url, args.cases, args.rounds)
            finally:
                drop_database(url)
            ratio = ours / base
            worst = min(worst, ratio)
            print(f"{backend:<11} {ours:>16.1f} {base:>11.1f} {ratio:>7.3f}")
        print(f"target ratio >= 0.25: {'met' if worst >= 0.25 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
