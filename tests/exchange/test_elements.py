"""The data-element registry: required elements, code lists, and refusal of bad entries."""

from __future__ import annotations

import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tongban.exchange.elements import ELEMENTS_FILE, Registry, demo_gazetteer, load_registry
from tongban.privacy.policy import Level, PersonalClass

REQUIRED = [
    "公民身份号码",
    "姓名",
    "性别",
    "出生日期",
    "户籍地址",
    "户籍地址（省级）",
    "户籍地址（地级）",
    "户籍地址（县级）",
    "婚姻状况",
    "不动产权证号",
    "权利人",
    "房屋坐落",
    "共有情况",
    "社保参保状态",
    "参保单位",
    "缴费月数",
    "统一社会信用代码",
    "纳税状态",
    "最低生活保障状态",
]


def raw_registry() -> dict[str, Any]:
    with ELEMENTS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def test_every_required_element_is_registered_with_a_code() -> None:
    registry = load_registry()
    names = {element.name: code for code, element in registry.elements.items()}
    assert set(REQUIRED) <= set(names)
    assert names["公民身份号码"] == "DE0001"
    assert all(element.code == code for code, element in registry.elements.items())


def test_levels_and_classes_use_the_privacy_vocabulary() -> None:
    levels, classes = set(typing.get_args(Level)), set(typing.get_args(PersonalClass))
    for element in load_registry().elements.values():
        assert element.level in levels
        assert element.personal in classes
        assert not (element.personal == "sensitive" and element.level == "general")


def test_marital_status_follows_gb_t_2261_2() -> None:
    registry = load_registry()
    marital = registry.codelist_of(registry.element("marital_status"))
    assert marital.codes == {
        "10": "未婚",
        "20": "已婚",
        "21": "初婚",
        "22": "再婚",
        "23": "复婚",
        "30": "丧偶",
        "40": "离婚",
        "90": "未说明的婚姻状况",
    }
    assert marital.standard_code("已婚") == "20"
    assert marital.standard_code("未说明") == "90"
    assert marital.standard_code("2") is None  # a bare 2 is some source's code, not the standard's


def test_elements_are_found_by_code_or_id() -> None:
    registry = load_registry()
    assert registry.element("DE0010") is registry.element("property_cert_no")
    with pytest.raises(KeyError):
        registry.element("DE9999")


def test_the_gazetteer_knows_every_province_and_the_demo_counties() -> None:
    gazetteer = demo_gazetteer()
    assert gazetteer.codes["宁夏"] == gazetteer.codes["宁夏回族自治区"] == "640000"
    assert gazetteer.names["640425"] == "彭阳县"
    assert len([code for code in gazetteer.names if code.endswith("0000")]) == 34


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["elements"]["DE0001"].update(level="general"), "sensitive"),
        (lambda r: r["elements"]["DE0003"].pop("codelist"), "code list"),
        (lambda r: r["elements"]["DE0002"].update(codelist="gender"), "code list"),
        (lambda r: r["elements"]["DE0004"].update(type="string"), "produces"),
        (lambda r: r["elements"]["DE0006"].pop("part"), "part"),
        (lambda r: r["elements"]["DE0003"].update(codelist="nothing"), "unknown code list"),
        (lambda r: r["elements"]["DE0002"].update(level="secret"), "level"),
        (lambda r: r["elements"]["DE0002"].update(id="id_number"), "used twice"),
        (lambda r: r["elements"].update(X1=r["elements"]["DE0002"] | {"id": "x"}), "is not DE"),
        (lambda r: r["codelists"]["gender"]["aliases"].update(男="5"), "unknown codes"),
        (lambda r: r["elements"]["DE0002"].update(colour="red"), "colour"),
    ],
)
def test_a_bad_registry_is_refused(change: Any, message: str) -> None:
    registry = raw_registry()
    change(registry)
    with pytest.raises(ValidationError, match=message):
        Registry.model_validate(registry)


def test_the_shipped_file_is_the_one_loaded() -> None:
    assert load_registry(Path(ELEMENTS_FILE)).elements.keys() == raw_registry()["elements"].keys()
