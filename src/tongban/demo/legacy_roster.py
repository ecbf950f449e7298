"""民政 低保 roster for the exchange demo: one table as two file drops.

The same rows as a GB18030 CSV (dates as Unix seconds, from the web system that
exports them) and as an .xlsx workbook (dates mostly as bare Excel serial numbers,
every fifth a date cell; one identity number typed in as a number). Status and
marital status are written in words; one row lacks its identity number, one has a
date that does not exist.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from tongban.demo.legacy_people import AS_OF, Person, weighted

ROSTER_STATUS = (("在保", 8), ("停发", 1), ("退出", 1))
ROSTER_MARITAL = {
    "10": "未婚",
    "20": "已婚",
    "21": "已婚",
    "22": "已婚",
    "23": "已婚",
    "30": "丧偶",
    "40": "离异",
    "90": "未说明",
}
ROSTER_HEADER = ("序号", "姓名", "身份证号", "保障状态", "认定日期", "婚姻状况")


def write_roster(
    csv_path: Path,
    xlsx_path: Path,
    rng: random.Random,
    adults: Sequence[Person],
    samples: dict[str, list[Any]],
) -> None:
    """Write the roster as a GB18030 CSV drop and an .xlsx drop (the same rows)."""
    chosen = rng.sample(list(adults), max(30, len(adults) // 50))
    rows: list[list[Any]] = []
    for n, person in enumerate(chosen, start=1):
        since = date(2012, 1, 1) + (date(2026, 6, 1) - date(2012, 1, 1)) * rng.random()
        status = weighted(rng, ROSTER_STATUS)
        marital = ROSTER_MARITAL[person.marital]
        rows.append([n, person.name, person.id_number, status, since, marital])
    rows[0][2] = ""  # missing identity number
    rows[1][4] = "2023-02-30"  # no such day
    samples["roster"] = [row[2] for row in rows[3:]]
    with csv_path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROSTER_HEADER)
        for row in rows:  # dates as Unix seconds, from the web system that exports them
            writer.writerow([*row[:4], _unix_seconds(row[4]), row[5]])
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "低保名册"
    sheet.append(ROSTER_HEADER)
    for n, row in enumerate(rows):
        since = row[4]  # most as bare Excel serial numbers, every fifth a real date cell
        serial = (since - date(1899, 12, 30)).days if isinstance(since, date) and n % 5 else since
        sheet.append([*row[:4], serial, row[5]])
    sheet.cell(row=4, column=3).value = float(rows[2][2])  # typed in as a number: digits lost
    workbook.properties.created = workbook.properties.modified = datetime.combine(AS_OF, time())
    workbook.save(xlsx_path)


def _unix_seconds(value: object) -> object:
    if not isinstance(value, date):
        return value
    return int(datetime.combine(value, time(), ZoneInfo("Asia/Shanghai")).timestamp())
