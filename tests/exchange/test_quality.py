"""The data-quality report finds exactly the deliberate defects of the demo sources."""

from __future__ import annotations

import re

from tongban.demo.legacy import DEFECTS, LegacySources
from tongban.exchange.adapters import Adapter, open_adapter
from tongban.exchange.quality import QualityReport, cross_check, quality_report, render_text


def profile(report: QualityReport) -> dict[str, tuple[int, dict[str, int]]]:
    """Per element: (missing, {reason: count}), only where something is wrong."""
    return {q.code: (q.missing, dict(q.reasons)) for q in report.elements if q.missing or q.reasons}


def test_population_defects_are_found_with_exact_counts(population: Adapter) -> None:
    defects = DEFECTS["population"]
    report = quality_report(population)
    assert report.rows == 3000 + defects["duplicate_rows"]
    address = (0, {"address_invalid": defects["unsplittable_address"]})
    assert profile(report) == {
        "DE0001": (0, {"bad_check_digit": defects["bad_check_digit"]}),
        "DE0002": (defects["missing_name"], {}),
        "DE0004": (defects["missing_birth_date"], {}),
        "DE0005": (0, {"unsplittable_address": defects["unsplittable_address"]}),
        "DE0006": address,
        "DE0007": address,
        "DE0008": address,
        "DE0009": (0, {"unknown_code": defects["unknown_marital_code"]}),
    }
    assert (report.duplicates.keys, report.duplicates.extra_rows, report.duplicates.identical) == (
        defects["duplicate_rows"],
    ) * 3
    assert report.unreachable == defects["unreachable_key"]
    first = report.element("DE0001")
    assert f"{first.validity:.2f}" == f"{100 * (report.rows - 4) / report.rows:.2f}"
    assert report.element("DE0002").completeness == 100 * (report.rows - 5) / report.rows


def test_realestate_defects_are_found_with_exact_counts(realestate: Adapter) -> None:
    defects = DEFECTS["realestate"]
    report = quality_report(realestate)
    assert profile(report) == {
        "DE0010": (0, {"bad_format": defects["bad_cert_no"]}),
        "DE0012": (defects["missing_location"], {}),
    }
    assert report.duplicates.elements == ["DE0010", "DE0001"]
    assert report.duplicates.extra_rows == defects["duplicate_rows"]


def test_social_insurance_defects_are_found_with_exact_counts(social_insurance: Adapter) -> None:
    defects = DEFECTS["social_insurance"]
    report = quality_report(social_insurance)
    assert profile(report) == {
        "DE0015": (0, {"unknown_code": defects["unknown_status"]}),
        "DE0016": (defects["missing_employer"], {}),
        "DE0017": (0, {"out_of_range": defects["negative_months"]}),
    }
    assert report.duplicates.extra_rows == defects["duplicate_rows"]
    assert report.unreachable == 0


def test_roster_drop_defects_are_found(legacy: LegacySources) -> None:
    csv_report = quality_report(open_adapter("subsistence", legacy.subsistence_csv))
    xlsx_report = quality_report(open_adapter("subsistence", legacy.subsistence_xlsx))
    defects = DEFECTS["subsistence"]
    expected = {
        "DE0001": (defects["missing_id"], {}),
        "DE0022": (0, {"bad_date": defects["bad_date"]}),
    }
    assert profile(csv_report) == expected
    stored = DEFECTS["subsistence_xlsx"]["id_stored_as_number"]
    assert profile(xlsx_report) == expected | {
        "DE0001": (defects["missing_id"], {"stored_as_number": stored})
    }


def test_names_that_differ_between_registers_are_found(
    population: Adapter, realestate: Adapter, legacy: LegacySources
) -> None:
    check = cross_check(population, realestate, {"DE0011": "DE0002"})
    assert check.mismatched_keys == set(legacy.samples["name_conflict"])
    assert len(check.mismatches) == DEFECTS["realestate"]["name_conflict"]
    assert check.absent == 0 and check.compared > 500
    li = next(m for m in check.mismatches if m.key == legacy.samples["conflicting_applicant"][0])
    assert (li.other_value, li.reference_values) == ("李建君", ("李建军",))


def test_the_text_report_is_bilingual_and_masks_personal_numbers(
    population: Adapter, legacy: LegacySources
) -> None:
    text = render_text(quality_report(population))
    for header in (
        "数据质量报告 Data-quality report",
        "完整率 Complete",
        "有效率 Valid",
        "重复 Duplicates",
    ):
        assert header in text
    assert "校验位错误 bad_check_digit ×4" in text
    assert "按键查不到 Unreachable by key: 2" in text
    # Examples are shown, but no full identity number is.
    assert re.search(r"6404\d\d\*{8}\d{3}[\dX]", text)
    assert not re.search(r"\d{17}[\dX]", text)
    for id_number in legacy.samples["unreachable_key"] + legacy.samples["duplicate"]:
        assert id_number not in text
