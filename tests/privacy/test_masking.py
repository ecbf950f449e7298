"""Display masking rules: identity number 6 + 4, phone 3 + 4, bank card last 4, name keeps
the surname, address to county level — and every kind a form field may declare."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tongban.kit.ids import make_id_number
from tongban.kit.masking import mask_id_number, mask_name, mask_phone
from tongban.privacy.policy import MaskKind
from tongban.privacy.service import mask_address, mask_bank_card, mask_value

PERSON = make_id_number("640425", date(1990, 3, 15), 123)  # fictional


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("宁夏回族自治区固原市彭阳县白阳镇南街1号", "宁夏回族自治区固原市彭阳县*******"),
        ("北京市海淀区中关村大街27号", "北京市海淀区********"),
        ("内蒙古自治区鄂尔多斯市伊金霍洛旗阿勒腾席热镇", "内蒙古自治区鄂尔多斯市伊金霍洛旗******"),
        ("内蒙古自治区阿拉善盟阿拉善左旗巴彦浩特镇", "内蒙古自治区阿拉善盟阿拉善左旗*****"),
        ("广东省深圳市南山区粤海街道科技园", "广东省深圳市南山区*******"),
        ("新疆维吾尔自治区乌鲁木齐市天山区解放北路", "新疆维吾尔自治区乌鲁木齐市天山区****"),
        ("新疆维吾尔自治区喀什地区喀什市色满路", "新疆维吾尔自治区喀什地区喀什市***"),  # 地区 ≠ 区
        ("甘肃省临夏回族自治州临夏县韩集镇", "甘肃省临夏回族自治州临夏县***"),
        ("湖北省仙桃市干河街道", "湖北省仙桃市****"),  # a province-administered city
        ("湖北省神农架林区松柏镇", "湖北省神农架林区***"),
        ("重庆市石柱土家族自治县南宾街道", "重庆市石柱土家族自治县****"),
        ("甘肃省镇原县城关镇", "甘肃省镇原县***"),  # a county named 镇…
        ("湖南省永州市道县濂溪街道", "湖南省永州市道县****"),  # a one-character county
        ("海南省儋州市那大镇人民路某小区", "海南省儋州市********"),  # 小区 is not a district
        ("固原市原州区南关街道", "固原市原州区****"),  # no province
        ("彭阳县白阳镇阳洼村三组", "彭阳县********"),  # county only
        ("宁夏彭阳县白阳镇", "宁夏彭阳县***"),
        ("宁夏回族自治区 固原市 彭阳县 白阳镇", "宁夏回族自治区 固原市 彭阳县***"),
        ("彭阳县", "彭阳县"),  # nothing below county level to hide
        ("白阳镇南街1号", "*******"),  # no county recognised: nothing shown
        ("Room 5, 12 Nathan Road", "********"),
    ],
)
def test_address_keeps_county_level(address: str, masked: str) -> None:
    assert mask_address(address) == masked


@pytest.mark.parametrize(
    ("card", "masked"),
    [
        ("6222021234567890123", "***************0123"),  # 19-digit UnionPay
        ("6222 0212 3456 7890", "**** **** **** 7890"),  # grouping kept
        ("6217-0000-1234-5678-901", "****-****-****-***8-901"),
        ("1234", "****"),  # four digits alone are all there is: nothing shown
        ("无", "*"),
    ],
)
def test_bank_card_keeps_the_last_four(card: str, masked: str) -> None:
    assert mask_bank_card(card) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("王小明", "王**"),
        ("欧阳娜娜", "欧阳**"),
        ("司马光", "司马*"),
        ("欧阳", "欧*"),  # two characters: surname 欧, given name 阳
        ("东方", "东*"),
        (" 李四 ", "李*"),
        ("买买提·艾力", "买*****"),
        ("宁夏彭阳某某商贸有限公司", "宁夏******有限公司"),
        ("彭阳县红河镇养殖专业合作社", "彭阳******专业合作社"),
        ("彭阳县张三小吃店", "彭阳*****店"),  # the person's name in a shop's name is hidden
    ],
)
def test_name_keeps_the_surname(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_identity_number_keeps_six_and_four() -> None:
    masked = PERSON[:6] + "*" * 8 + PERSON[-4:]
    assert mask_id_number(PERSON) == masked
    assert mask_id_number(f"{PERSON[:6]} {PERSON[6:14]} {PERSON[14:]}") == masked
    assert mask_id_number(PERSON[:17] + "x")[-4:] == PERSON[14:17] + "x"
    assert mask_id_number("640425900315123") == "640425*****5123"  # 15-digit, first generation
    assert mask_id_number("12345") == "*****"


@pytest.mark.parametrize(
    "phone",
    [
        "13912345678",
        "+8613912345678",
        "+86 139 1234 5678",
        "+86-139-1234-5678",
        "8613912345678",
        "008613912345678",
        "139 1234 5678",
    ],
)
def test_mobile_keeps_three_and_four(phone: str) -> None:
    assert mask_phone(phone) == "139****5678"


def test_landline_and_short_numbers() -> None:
    assert mask_phone("0954-1234567") == "095****4567"
    assert mask_phone("12345") == "*****"
    assert mask_phone("") == ""


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [
        ("name", "王小明", "王**"),
        ("id_number", PERSON, PERSON[:6] + "********" + PERSON[-4:]),
        ("phone", "13912345678", "139****5678"),
        ("bank_card", "6222021234567890123", "***************0123"),
        ("address", "宁夏回族自治区固原市彭阳县白阳镇", "宁夏回族自治区固原市彭阳县***"),
        (
            "free_text",
            f"身份证号{PERSON}，家中三口人",
            f"身份证号{PERSON[:6]}********{PERSON[-4:]}，家中三口人",
        ),
        ("full", "残疾人", "***"),
        ("full", 1800, "***"),
        ("full", False, "***"),
        ("name", 3, "***"),  # not text: nothing of it is shown
        ("full", None, ""),
        ("phone", "", ""),
        ("none", 1800, 1800),
        ("none", None, None),
    ],
)
def test_mask_value_for_every_kind(kind: MaskKind, value: Any, shown: Any) -> None:
    assert mask_value(kind, value) == shown
