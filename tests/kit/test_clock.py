"""Times as people here read them: Beijing time, a day's end as 24:00."""

from __future__ import annotations

from datetime import UTC, datetime

from tongban.insight.charts import figure
from tongban.kit.clock import SHANGHAI, beijing_text, deadline_text


def test_a_deadline_at_the_end_of_a_day_reads_as_that_days_24_00() -> None:
    end_of_8th = datetime(2026, 12, 9, 0, 0, tzinfo=SHANGHAI)
    assert deadline_text(end_of_8th) == "2026-12-08 24:00"
    assert deadline_text(end_of_8th.astimezone(UTC)) == "2026-12-08 24:00"
    assert deadline_text(datetime(2026, 12, 9, 0, 1, tzinfo=SHANGHAI)) == "2026-12-09 00:01"
    assert deadline_text(datetime(2027, 1, 1, 0, 0, tzinfo=SHANGHAI)) == "2026-12-31 24:00"
    assert deadline_text(None) == ""


def test_stored_times_are_shown_in_beijing_time() -> None:
    assert beijing_text(datetime(2026, 12, 3, 16, 30, tzinfo=UTC)) == "2026-12-04 00:30"
    assert beijing_text(datetime(2026, 12, 3, 16, 30)) == "2026-12-04 00:30"  # naive is UTC
    assert beijing_text(None) == ""


def test_a_missing_figure_is_a_dash_in_every_language() -> None:
    assert figure(None) == "—"
    assert figure(1234.5) == "1,234.5"
    assert figure(80.0) == "80"
