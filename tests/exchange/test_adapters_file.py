"""The file-drop adapter on the 低保 roster, as GB18030 CSV and as Excel."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from tongban.demo.legacy import LegacySources
from tongban.exchange.adapters import Claim, MappingError, SourceError, open_adapter
from tongban.exchange.adapters_file import FileAdapter


def test_csv_and_excel_drops_clean_to_the_same_records(legacy: LegacySources) -> None:
    from_csv = open_adapter("subsistence", legacy.subsistence_csv)
    from_xlsx = open_adapter("subsistence", legacy.subsistence_xlsx)
    assert isinstance(from_csv, FileAdapter)
    csv_records = list(from_csv.iter_records())
    xlsx_records = list(from_xlsx.iter_records())
    assert len(csv_records) == len(xlsx_records) >= 30
    for n, (a, b) in enumerate(zip(csv_records, xlsx_records, strict=True)):
        if n == 2:  # the identity number typed into Excel as a number
            assert b.problems[0].reason == "stored_as_number"
            continue
        assert a.values == b.values, n  # Unix seconds and Excel serials give the same dates


def test_fetch_and_claims_on_a_drop(legacy: LegacySources) -> None:
    adapter = open_adapter("subsistence", legacy.subsistence_csv)
    id_number = legacy.samples["roster"][0]
    [record] = adapter.fetch(["DE0021", "DE0022", "DE0009"], id_number)
    assert record.values["DE0021"] in {"1", "2", "3"}
    assert record.values["DE0009"] in {"10", "20", "30", "40", "90"}
    status = record.values["DE0021"]
    assert adapter.check(Claim(id_number, {"subsistence_status": status}))
    assert not adapter.check(Claim(legacy.samples["clean_applicant"][0]))


def test_a_new_drop_is_read_again(legacy: LegacySources, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    shutil.copy(legacy.subsistence_csv, path)
    adapter = open_adapter("subsistence", path)
    id_number = legacy.samples["roster"][0]
    [before] = adapter.fetch(["DE0002"], id_number)
    with path.open(encoding="gb18030", newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows:
        if row[2] == id_number:
            row[1] = "改名测试"
    with path.open("w", encoding="gb18030", newline="") as handle:
        csv.writer(handle).writerows(rows)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    [after] = adapter.fetch(["DE0002"], id_number)
    assert before.values["DE0002"] != "改名测试"
    assert after.values["DE0002"] == "改名测试"


def test_a_drop_without_the_mapped_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("姓名,证件号\n张三,640425199003159981\n", encoding="gb18030")
    with pytest.raises(MappingError, match="身份证号"):
        open_adapter("subsistence", path)


def test_a_missing_drop_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as raised:
        open_adapter("subsistence", tmp_path / "absent.xlsx")
    assert raised.value.code == "source_unavailable"
