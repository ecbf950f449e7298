"""Workday services on SQLite and PostgreSQL: loaded years, reloads, events, the cache."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import tongban.demo
from tongban import events
from tongban.db import session_factory
from tongban.errors import DomainError
from tongban.events import CalendarChanged
from tongban.workdays import service
from tongban.workdays.models import WorkdayDate, WorkdayYear
from tongban.workdays.rules import WorkdayResult

EXAMPLE = Path(tongban.demo.__file__).parent / "calendar-2027.toml"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[CalendarChanged]]:
    """Record CalendarChanged events (in place of the cases domain's handler)."""
    seen: list[CalendarChanged] = []
    monkeypatch.setitem(events._registry, CalendarChanged, [lambda _s, e: seen.append(e)])
    yield seen


def counts(session: Session) -> tuple[int, int]:
    years = session.scalar(select(func.count()).select_from(WorkdayYear))
    dates = session.scalar(select(func.count()).select_from(WorkdayDate))
    return years or 0, dates or 0


def test_without_loaded_years(session: Session) -> None:
    assert service.year_sources(session, [2026, 2027]) == {2026: "package", 2027: "provisional"}
    result = service.add_workdays(session, start=date(2026, 12, 31), n=1)
    assert result == WorkdayResult(date(2027, 1, 4), True)
    assert (
        service.workdays_between(session, start=date(2026, 12, 31), end=date(2027, 1, 5)).count == 2
    )


def test_loading_the_example_makes_2027_official(
    session: Session, clean_db: str, published: list[CalendarChanged]
) -> None:
    summary = service.load_file(session, path=EXAMPLE)
    assert summary.year == 2027
    assert (summary.holidays, summary.makeup_workdays, summary.replaced) == (29, 5, False)
    assert summary.source_file == "calendar-2027.toml"
    assert published == [CalendarChanged(years=(2027,))]
    assert counts(session) == (1, 34)

    assert service.year_sources(session, [2026, 2027, 2028]) == {
        2026: "package",
        2027: "loaded",
        2028: "provisional",
    }
    # 31 January 2027 is a Sunday worked in the example arrangement.
    assert service.add_workdays(session, start=date(2027, 1, 29), n=1) == WorkdayResult(
        date(2027, 1, 31), False
    )
    assert service.add_workdays(session, start=date(2026, 12, 31), n=1) == WorkdayResult(
        date(2027, 1, 4), False
    )
    assert service.add_workdays(session, start=date(2027, 2, 4), n=1).date == date(2027, 2, 15)

    # The load survives the transaction and is seen from another session.
    session.commit()
    with session_factory(clean_db)() as other:
        assert service.year_sources(other, [2027]) == {2027: "loaded"}


def test_loading_a_year_again_replaces_it(
    session: Session, tmp_path: Path, published: list[CalendarChanged]
) -> None:
    service.load_file(session, path=EXAMPLE)
    changed = EXAMPLE.read_text(encoding="utf-8").replace(
        "workdays = [2027-01-31, 2027-02-20]", "workdays = [2027-02-20]"
    )
    path = tmp_path / "2027-revised.toml"
    path.write_text(changed, encoding="utf-8")
    summary = service.load_file(session, path=path)
    assert (summary.replaced, summary.makeup_workdays) == (True, 4)
    assert counts(session) == (1, 33)
    assert service.add_workdays(session, start=date(2027, 1, 29), n=1).date == date(2027, 2, 1)
    assert len(published) == 2


@pytest.mark.parametrize(
    ("mutation", "code"),
    [
        (("2027-05-08]", "2027-05-07]"), "workday_makeup_not_weekend"),
        (("end = 2027-10-07", "end = 2028-10-07"), "workday_date_outside_year"),
        (
            ('name = "元旦"\nstart = 2027-01-01', 'name = "元旦"\nstart = 2027-01-02'),
            "workday_statutory_holiday_missing",
        ),
        (("year = 2027", "year = 2027\nyear = 2028"), "workday_file_syntax"),
    ],
)
def test_invalid_file_stores_nothing_and_keeps_the_previous_load(
    session: Session,
    tmp_path: Path,
    published: list[CalendarChanged],
    mutation: tuple[str, str],
    code: str,
) -> None:
    service.load_file(session, path=EXAMPLE)
    before = counts(session)
    text = EXAMPLE.read_text(encoding="utf-8")
    assert mutation[0] in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(mutation[0], mutation[1]), encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        service.load_file(session, path=bad)
    assert caught.value.code == code
    assert counts(session) == before
    assert len(published) == 1
    assert service.add_workdays(session, start=date(2027, 1, 29), n=1).date == date(2027, 1, 31)


def test_invalid_file_on_an_empty_database_stores_nothing(session: Session, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("year = 2027\n", encoding="utf-8")
    with pytest.raises(DomainError) as caught:
        service.load_file(session, path=bad)
    assert caught.value.code == "workday_file_field_invalid"
    assert counts(session) == (0, 0)


def test_unreadable_files(session: Session, tmp_path: Path) -> None:
    with pytest.raises(DomainError) as caught:
        service.load_file(session, path=tmp_path / "missing.toml")
    assert (caught.value.code, caught.value.status) == ("workday_file_not_found", 404)
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('year = 2027\ntitle = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(DomainError) as caught:
        service.load_file(session, path=latin1)
    assert caught.value.code == "workday_file_encoding"
    assert counts(session) == (0, 0)


def test_count_and_date_limits(session: Session) -> None:
    for n in (-1, service.MAX_WORKDAYS + 1):
        with pytest.raises(DomainError) as caught:
            service.add_workdays(session, start=date(2026, 3, 2), n=n)
        assert (caught.value.code, caught.value.status) == ("workday_count_out_of_range", 422)
    with pytest.raises(DomainError) as caught:
        service.add_workdays(session, start=date(9999, 12, 30), n=5)
    assert caught.value.code == "workday_date_out_of_range"


def test_a_load_committed_elsewhere_is_seen_by_a_running_process(clean_db: str) -> None:
    """Several workers share one database: the cached calendar must notice a new load."""
    factory = session_factory(clean_db)
    with factory() as worker:
        assert service.year_sources(worker, [2027]) == {2027: "provisional"}
        worker.rollback()  # end of that worker's request
        with factory() as admin:
            service.load_file(admin, path=EXAMPLE)
            admin.commit()
        assert service.year_sources(worker, [2027]) == {2027: "loaded"}
        assert not service.add_workdays(worker, start=date(2027, 1, 29), n=1).provisional
