"""A database dump alone reveals no identity number and no phone number.

The demo county, its sample cases and cases of our own with known synthetic
identity numbers and phones (in the applicant fields, the forms, notes, file names,
a user's profile and an audit purpose) are written through the services; then the
whole database is dumped the way a thief would — the SQLite file's raw bytes (with
its write-ahead log) and `sqlite3`'s SQL dump, or `pg_dump` — and searched.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from support import act, applicant, application, clerk, item_named, make_user
from tongban.audit import service as audit_service
from tongban.cases import service as case_service
from tongban.cases.schemas import ApplicantIn
from tongban.db import get_engine, transaction
from tongban.demo.cases import load_sample_cases
from tongban.demo.loader import read
from tongban.kit.ids import make_id_number

# (name, identity number, phone): fictional people with valid check digits
PEOPLE = [
    ("欧阳明远", make_id_number("640425", date(1971, 4, 12), 318), "13851234607"),
    ("司马秋月", make_id_number("640402", date(1996, 12, 1), 44), "15923456718"),
    ("诸葛云飞", make_id_number("110105", date(2003, 2, 28), 907), "+86 17734567829"),
]
DEMO_ID_NUMBERS = [u["id_number"] for u in read("users") if u.get("id_number")]


def _secrets() -> list[str]:
    numbers = [p[1] for p in PEOPLE] + DEMO_ID_NUMBERS
    phones = [p[2].removeprefix("+86 ") for p in PEOPLE]
    return numbers + [n[:17] for n in numbers] + phones


def _write_people(session: Session) -> None:
    window = clerk(session)
    item = item_named(session, "个体工商户")
    for name, id_number, phone in PEOPLE:
        person = make_user(
            session, "applicant", id_number=id_number, phone=phone, display_name=name
        )
        data = application(session, person, item_code=item.code)  # for themselves
        data = data.model_copy(update={"applicant": ApplicantIn(phone=phone)})
        case_service.save_upload(  # a file name typed by the applicant
            session, actor=person, filename=f"{name}{id_number}身份证.pdf", content=b"%PDF-1.4 x"
        )
        case = case_service.submit_case(session, actor=person, data=data)
        act(
            session,
            window,
            case,
            "request_supplement",
            note=f"身份证 {id_number} 模糊，电话 {phone}",
            missing=["身份证正反面"],
        )
        audit_service.record(
            session,
            actor=window,
            access=audit_service.Access(
                action="unmask",
                subject_kind="case",
                subject_ref=case.case_no,
                fields=("applicant_id_number",),
                purpose_code="identity_check",
                purpose_text=f"核对申请人 {id_number} 身份",
            ),
        )


@pytest.fixture
def filled(demo_db: str) -> str:
    with transaction(demo_db) as s:
        assert load_sample_cases(s) > 0
        _write_people(s)
    get_engine(demo_db).dispose()  # close connections: the SQLite WAL is checkpointed
    return demo_db


def _sqlite_dump(url: str) -> str:
    path = Path(url.split("///", 1)[1])
    raw = b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )
    with sqlite3.connect(path) as connection:
        statements = "\n".join(connection.iterdump())
    return raw.decode("utf-8", errors="replace") + "\n" + statements


def _pg_dump(url: str) -> str:
    if shutil.which("pg_dump") is None:
        if os.environ.get("TONGBAN_REQUIRE_POSTGRES") == "1" or os.environ.get("CI"):
            pytest.fail("pg_dump is not installed")
        pytest.skip("pg_dump is not installed")
    plain_url = url.replace("postgresql+psycopg://", "postgresql://", 1)
    done = subprocess.run(
        ["pg_dump", "--no-owner", "--dbname", plain_url],
        capture_output=True,
        check=True,
        timeout=120,
    )
    return done.stdout.decode("utf-8")


def _dump(url: str) -> str:
    return _sqlite_dump(url) if url.startswith("sqlite") else _pg_dump(url)


def test_a_dump_reveals_no_identity_number_and_no_phone(filled: str) -> None:
    dump = _dump(filled)
    # the dump is readable: names, case titles and the demo users are all there
    for name, _, _ in PEOPLE:
        assert name in dump
    assert "马晓燕" in dump and "个体工商户" in dump and "enc:k" in dump
    leaks = [secret for secret in _secrets() if secret in dump]
    assert leaks == [], _where(dump, leaks)


def _where(dump: str, leaks: list[str]) -> str:
    """The dump lines that hold a leaked number, to say which table and column leak."""
    lines = [line for line in dump.splitlines() if any(s in line for s in leaks)]
    return "\n".join(line[:300] for line in lines[:10])


LEAKY = make_id_number("640425", date(1977, 7, 7), 555)


def _type_into_a_supplement_list(url: str) -> None:
    with transaction(url) as s:
        window = clerk(s)
        person = applicant(s, 41)  # a verified citizen applying for themselves
        item = item_named(s, "个体工商户")
        case = case_service.submit_case(
            s, actor=person, data=application(s, person, item_code=item.code)
        )
        act(s, window, case, "request_supplement", note="见清单", missing=[f"{LEAKY} 的户口簿"])


def _sign_in_with_an_identity_number(url: str) -> None:
    from tongban.access import service as access_service
    from tongban.errors import DomainError

    # many people type their identity number as the user name; the failure is committed
    with transaction(url) as s, pytest.raises(DomainError):
        access_service.authenticate(s, username=LEAKY, password="not the password")


# Numbers typed where nobody expects personal data: the 补正 list (case_events.payload,
# encrypted) and a failed sign-in's user name (login_throttles, keyed by a blind index).
@pytest.mark.parametrize(
    "write",
    [_type_into_a_supplement_list, _sign_in_with_an_identity_number],
    ids=lambda write: write.__name__.strip("_"),
)
def test_numbers_typed_into_free_text_are_not_revealed(filled: str, write: Any) -> None:
    write(filled)
    get_engine(filled).dispose()
    dump = _dump(filled)
    assert LEAKY not in dump, _where(dump, [LEAKY])
