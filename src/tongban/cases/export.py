"""Cases as a CSV file for clerks and administrators: personal values masked by the policy."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from tongban.cases import disclosure, rules
from tongban.cases.disclosure import Viewer
from tongban.cases.models import Case
from tongban.kit.clock import to_local

# A county's whole caseload fits; a larger export must be narrowed by item or state.
MAX_ROWS = 10_000

HEADER = (
    "办件编号",
    "事项",
    "状态",
    "申请人",
    "证件号码",
    "联系电话",
    "渠道",
    "受理部门",
    "提交时间",
    "承诺办结期限",
)
CHANNELS = {"online": "网上申报", "window": "窗口代办"}
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Export:
    content: bytes
    rows: int
    filename: str


def row(case: Case, viewer: Viewer) -> list[str]:
    """One case as the reader may see it; a hidden value is an empty cell."""
    deadline = to_local(case.deadline_at).date().isoformat() if case.deadline_at else ""
    return [
        case.case_no,
        case.title,
        rules.STATE_LABELS[case.state],
        viewer.show(disclosure.NAME, case.applicant_name)[1] or "",
        viewer.show(disclosure.ID_NUMBER, case.applicant_id_number)[1] or "",
        viewer.show(disclosure.PHONE, case.applicant_phone)[1] or "",
        CHANNELS.get(case.channel, case.channel),
        case.lead_department_name,
        to_local(case.submitted_at).strftime("%Y-%m-%d %H:%M"),
        deadline,
    ]


def to_csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with a byte-order mark and CRLF line ends, so that Excel opens it as is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows([[_defused(cell) for cell in cells] for cells in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _defused(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell
