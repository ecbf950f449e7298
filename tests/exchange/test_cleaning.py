"""Pure cleaning: each function gives a clean value or a Problem with a specific reason."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from tongban.exchange.cleaning import (
    Problem,
    SourceRules,
    clean_address,
    clean_code,
    clean_credit_code,
    clean_date,
    clean_id_number,
    clean_integer,
    clean_name,
    clean_property_cert_no,
    clean_text,
    clean_value,
    half_width,
    id_number_variants,
    tidy,
    upgrade_id_number,
)
from tongban.exchange.elements import demo_gazetteer, load_registry
from tongban.kit.ids import is_valid_id_number, make_id_number, make_uscc

ID = make_id_number("640425", date(1975, 4, 8), 123)
ID_X = next(
    n for s in range(1, 999) if (n := make_id_number("640425", date(1980, 1, 2), s)).endswith("X")
)


def reason(result: object) -> str:
    assert isinstance(result, Problem), f"expected a problem, got {result!r}"
    return result.reason


# ---------------------------------------------------------------- text


def test_half_width_converts_alphanumerics_and_keeps_chinese_punctuation() -> None:
    assert half_width("６４０４２５ＡＢｃ\u3000号") == "640425ABc 号"
    assert half_width("彭阳县（白阳镇），。") == "彭阳县（白阳镇），。"
    assert half_width("（２０２４）", punctuation=True) == "(2024)"


def test_tidy_trims_collapses_and_closes_gaps_between_chinese() -> None:
    assert tidy("  张 三\u3000 ") == "张三"
    assert tidy("Room  3 \t B") == "Room 3 B"
    assert tidy("彭阳县 3 号楼") == "彭阳县 3 号楼"


# ---------------------------------------------------------------- identity numbers


@pytest.mark.parametrize(
    "raw",
    [
        ID,
        f"  {ID} ",
        ID.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
        f"{ID[:9]} {ID[9:]}",
    ],
)
def test_identity_numbers_in_untidy_forms_clean_to_one_value(raw: str) -> None:
    assert clean_id_number(raw) == ID


def test_lower_case_x_is_upper_cased() -> None:
    assert clean_id_number(ID_X.lower()) == ID_X


def test_a_15_digit_number_is_upgraded_to_18() -> None:
    legacy = ID[:6] + ID[8:17]
    assert upgrade_id_number(legacy) == ID
    assert clean_id_number(legacy) == ID
    assert legacy in id_number_variants(ID)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "missing"),
        ("", "missing"),
        ("  ", "missing"),
        ("NULL", "missing"),
        (ID[:17] + ("0" if ID[17] != "0" else "1"), "bad_check_digit"),
        (ID[:16], "bad_length"),
        (ID[:6] + "ABCDEFGHI", "bad_characters"),
        ("9" + ID[1:], "bad_area"),
        (ID[:10] + "1332" + ID[14:], "bad_birth_date"),
        (ID[:6] + "751332" + ID[14:17], "bad_birth_date"),  # a 15-digit one with no such day
        (float(ID[:17] + "0"), "stored_as_number"),
    ],
)
def test_bad_identity_numbers_are_reported(raw: object, expected: str) -> None:
    result = clean_id_number(raw, element="DE0001")
    assert reason(result) == expected
    assert isinstance(result, Problem) and result.element == "DE0001" and result.raw == raw


def test_random_identity_numbers_and_their_corruptions() -> None:
    rng = random.Random(7)
    for _ in range(300):
        birth = date(1930, 1, 1) + timedelta(days=rng.randrange(34000))
        number = make_id_number("640425", birth, rng.randrange(1, 999))
        assert clean_id_number(number) == number
        position = rng.randrange(17)
        digit = str((int(number[position]) + rng.randrange(1, 10)) % 10)
        corrupted = number[:position] + digit + number[position + 1 :]
        result = clean_id_number(corrupted)
        # One changed digit always breaks GB 11643 (or the date, or the area).
        assert isinstance(result, Problem), corrupted
        assert not is_valid_id_number(corrupted)


def test_credit_codes() -> None:
    code = make_uscc("91640425MA76B0A9Q")
    assert clean_credit_code(f" {code.lower()} ") == code
    assert (
        reason(clean_credit_code(code[:17] + ("0" if code[17] != "0" else "1")))
        == "bad_check_digit"
    )
    assert reason(clean_credit_code("91640425MA76B0A9I" + "1")) == "bad_characters"
    assert reason(clean_credit_code(code[:10])) == "bad_length"


# ---------------------------------------------------------------- names, text, certificates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 马 晓燕\u3000", "马晓燕"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("John  Smith", "JOHN SMITH"),
    ],
)
def test_names(raw: str, expected: str) -> None:
    assert clean_name(raw, element="DE0002") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("张3", "bad_characters"), ("张", "too_short"), ("", "missing"), ("李" * 31, "too_long")],
)
def test_bad_names(raw: str, expected: str) -> None:
    assert reason(clean_name(raw, element="DE0002")) == expected


def test_text_is_tidied_and_bounded() -> None:
    assert clean_text("  彭阳县 示范 公司 ", element="DE0016") == "彭阳县示范公司"
    assert reason(clean_text(" ", element="DE0016")) == "missing"
    assert reason(clean_text("x" * 201, element="DE0016")) == "too_long"


@pytest.mark.parametrize(
    "raw",
    [
        "宁(2024)彭阳县不动产权第0001234号",
        "宁（２０２４）彭阳县不动产权第０００１２３４号",
        "宁〔2024〕彭阳县 不动产权第0001234号",
    ],
)
def test_property_certificate_numbers(raw: str) -> None:
    assert clean_property_cert_no(raw) == "宁(2024)彭阳县不动产权第0001234号"


@pytest.mark.parametrize(
    "raw",
    ["彭阳县不动产权第12345号", "宁(24)彭阳县不动产权第0001234号", "宁(2024)彭阳县不动产权第123号"],
)
def test_malformed_property_certificate_numbers(raw: str) -> None:
    assert reason(clean_property_cert_no(raw)) == "bad_format"


# ---------------------------------------------------------------- numbers and codes


@pytest.mark.parametrize(("raw", "expected"), [(12, 12), ("１２", 12), (" 7 ", 7), (36.0, 36)])
def test_integers(raw: object, expected: int) -> None:
    assert clean_integer(raw, element="DE0017", minimum=0, maximum=960) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (-3, "out_of_range"),
        (961, "out_of_range"),
        ("12个月", "not_integer"),
        (1.5, "not_integer"),
        (True, "not_integer"),
        (None, "missing"),
    ],
)
def test_bad_integers(raw: object, expected: str) -> None:
    assert reason(clean_integer(raw, element="DE0017", minimum=0, maximum=960)) == expected


MARITAL = load_registry().codelists["marital_status"]
SOURCE_CODES = {"2": "20", "married": "20", "1": "10", "离异": "40"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("20", "20"),
        ("２０", "20"),
        (" 已婚 ", "20"),
        ("2", "20"),  # this source's own code
        (2, "20"),
        (2.0, "20"),  # Excel numbers
        ("MARRIED", "20"),
        ("离异", "40"),
        ("丧偶", "30"),
        ("未说明", "90"),
    ],
)
def test_code_lists_map_source_codes_labels_and_aliases(raw: object, expected: str) -> None:
    result = clean_code(raw, element="DE0009", codelist=MARITAL, source_codes=SOURCE_CODES)
    assert result == expected


def test_an_unknown_code_is_reported() -> None:
    assert (
        reason(clean_code("7", element="DE0009", codelist=MARITAL, source_codes=SOURCE_CODES))
        == "unknown_code"
    )
    assert reason(clean_code("2", element="DE0009", codelist=MARITAL)) == "unknown_code"


# ---------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (20240105, "auto"),
        ("20240105", "auto"),
        ("２０２４０１０５", "auto"),
        ("2024-01-05", "auto"),
        ("2024/1/5", "auto"),
        ("2024.01.05", "auto"),
        ("2024-01-05 13:45:00", "auto"),
        ("2024-01-05T13:45:00+08:00", "auto"),
        ("2024年1月5日", "auto"),
        ("2024年01月05号", "auto"),
        ("05-JAN-2024", "auto"),
        ("5-jan-24", "auto"),
        ("05-JAN-24 12.00.00.000000 AM", "auto"),
        ("20240105134500", "auto"),
        (45296, "auto"),  # Excel serial
        (45296.75, "auto"),  # Excel serial with a time of day
        ("45296", "excel"),
        (1704384000, "auto"),  # 2024-01-05 00:00 Asia/Shanghai, in Unix seconds
        ("1704384000", "unix"),
        (1704384000000, "auto"),  # milliseconds
        ("5/1/2024", "dmy"),
        ("1/5/2024", "mdy"),
        ("05/01/2024", "dmy"),
        ("01/05/2024", "mdy"),
        (date(2024, 1, 5), "auto"),
        (datetime(2024, 1, 4, 20, 0, tzinfo=UTC), "auto"),  # 04:00 on the 5th in 北京时间
    ],
)
def test_dates_in_legacy_encodings(raw: object, encoding: str) -> None:
    assert clean_date(raw, element="DE0004", encoding=encoding) == "2024-01-05"  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["25/1/2024", "1/25/2024", "25.01.2024"])
def test_day_and_month_order_is_told_when_one_exceeds_12(raw: str) -> None:
    assert clean_date(raw, element="DE0004") == "2024-01-25"


def test_excel_serials_around_the_phantom_leap_day() -> None:
    assert clean_date(61, element="DE0004", encoding="excel") == "1900-03-01"
    assert clean_date(59, element="DE0004", encoding="excel") == "1900-02-28"
    assert reason(clean_date(60, element="DE0004", encoding="excel")) == "bad_date"
    assert reason(clean_date(10**9, element="DE0004", encoding="excel")) == "out_of_range"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "missing"),
        ("", "missing"),
        (0, "missing"),
        ("00000000", "missing"),
        ("2023-02-30", "bad_date"),
        ("20231345", "bad_date"),
        ("05/06/2024", "ambiguous_date"),
        ("05-XYZ-2024", "bad_format"),
        ("上周三", "bad_format"),
        (1234567, "bad_format"),
        ("1800-01-01", "out_of_range"),
        (10**20, "bad_format"),  # no encoding has that many digits
    ],
)
def test_bad_dates_are_reported(raw: object, expected: str) -> None:
    assert reason(clean_date(raw, element="DE0004")) == expected


def test_dates_after_the_latest_allowed_are_reported() -> None:
    assert (
        reason(clean_date("2030-01-01", element="DE0004", latest=date(2026, 1, 1))) == "future_date"
    )
    assert clean_date("2025-12-31", element="DE0004", latest=date(2026, 1, 1)) == "2025-12-31"


# ---------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("raw", "province", "city", "county", "detail"),
    [
        (
            "宁夏回族自治区固原市彭阳县白阳镇东山村3组12号",
            "宁夏回族自治区",
            "固原市",
            "彭阳县",
            "白阳镇东山村3组12号",
        ),
        ("宁夏固原市原州区南关街道", "宁夏回族自治区", "固原市", "原州区", "南关街道"),
        ("固原市西吉县 吉强镇", "宁夏回族自治区", "固原市", "西吉县", "吉强镇"),
        ("彭阳县红河镇河湾村", "宁夏回族自治区", "固原市", "彭阳县", "红河镇河湾村"),
        ("甘肃省平凉市崆峒区西郊街道8号", "甘肃省", "平凉市", "崆峒区", "西郊街道8号"),
        ("北京市朝阳区望京街道", "北京市", "北京市", "朝阳区", "望京街道"),
        ("内蒙古自治区鄂尔多斯市伊金霍洛旗", "内蒙古自治区", "鄂尔多斯市", "伊金霍洛旗", ""),
        (
            "新疆维吾尔自治区伊犁哈萨克自治州伊宁市",
            "新疆维吾尔自治区",
            "伊犁哈萨克自治州",
            "伊宁市",
            "",
        ),
        ("四川省凉山彝族自治州木里藏族自治县", "四川省", "凉山彝族自治州", "木里藏族自治县", ""),
    ],
)
def test_addresses_split_into_province_city_county(
    raw: str, province: str, city: str, county: str, detail: str
) -> None:
    parts = clean_address(raw, element="DE0005", gazetteer=demo_gazetteer())
    assert not isinstance(parts, Problem), raw
    assert (parts.province, parts.city, parts.county, parts.detail) == (
        province,
        city,
        county,
        detail,
    )


def test_a_known_county_carries_its_region_code() -> None:
    parts = clean_address("彭阳县白阳镇", element="DE0005", gazetteer=demo_gazetteer())
    assert not isinstance(parts, Problem) and parts.region_code == "640425"


@pytest.mark.parametrize("raw", ["见户籍档案", "白阳镇东山村", "固原市", "某某省某某市某某县"])
def test_addresses_without_province_or_county_are_reported(raw: str) -> None:
    assert (
        reason(clean_address(raw, element="DE0005", gazetteer=demo_gazetteer()))
        == "unsplittable_address"
    )


# ---------------------------------------------------------------- by element


def test_clean_value_dispatches_on_the_element_format() -> None:
    registry, gazetteer = load_registry(), demo_gazetteer()

    def clean(element: str, raw: object, **options: object) -> object:
        return clean_value(
            registry.element(element), raw, registry=registry, gazetteer=gazetteer, **options
        )  # type: ignore[arg-type]

    assert clean("id_number", ID.lower()) == ID
    assert clean("gender", "男") == "1"
    assert clean("marital_status", "married", rules=SourceRules(codes={"married": "20"})) == "20"
    assert clean("birth_date", "05-JAN-2024") == "2024-01-05"
    assert reason(clean("birth_date", "2030-01-01", today=date(2026, 1, 1))) == "future_date"
    assert clean("contribution_months", "１２") == 12
    assert clean("household_address", "彭阳县 白阳镇") == "彭阳县白阳镇"
    assert (
        clean("property_cert_no", "宁（2024）彭阳县不动产权第0001234号")
        == "宁(2024)彭阳县不动产权第0001234号"
    )
    problem = clean("insurance_status", "9")
    assert (
        isinstance(problem, Problem)
        and problem.element == "DE0015"
        and problem.reason_zh == "代码不在代码表中"
    )
