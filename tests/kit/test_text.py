"""The input policy for text (tongban.kit.text), without a database."""

from __future__ import annotations

import math
from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError

from tongban.errors import Invalid
from tongban.kit.text import (
    MULTILINE,
    VERBATIM,
    RequestModel,
    clean_text,
    forbidden_character,
    normalize_width,
)

REFUSED = [
    "\x00",  # NUL
    "\x01",
    "\x07",
    "\x1b",  # ESC
    "\x7f",  # DEL
    "\x85",  # NEL (C1)
    "\x9f",
    "\u202a",  # LRE
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # RLO: "txt.exe" read as "exe.txt"
    "\u2066",  # LRI
    "\u2067",
    "\u2068",
    "\u2069",  # PDI
    "\u200e",  # LRM
    "\u200f",  # RLM
    "\u061c",  # ALM
    "\ud800",  # a lone surrogate: no database can encode it
]


@pytest.mark.parametrize("character", REFUSED)
def test_control_bidi_and_surrogate_characters_are_refused(character: str) -> None:
    with pytest.raises(Invalid) as caught:
        clean_text(f"张{character}三", field="name", max_length=64)
    error = caught.value
    assert (error.status, error.code) == (422, "invalid_text")
    assert error.details["field"] == "name"
    assert error.details["character"] == f"U+{ord(character):04X}"
    assert "name" in error.message_en and "「name」" in error.message_zh


@pytest.mark.parametrize("character", ["\n", "\t"])
def test_line_breaks_and_tabs_only_where_text_is_multi_line(character: str) -> None:
    with pytest.raises(Invalid):
        clean_text(f"第一行{character}第二行", field="name", max_length=64)
    assert clean_text(f"第一行{character}第二行", field="note", max_length=64, multiline=True) == (
        f"第一行{character}第二行"
    )


def test_carriage_returns_become_line_breaks_in_multi_line_text() -> None:
    assert clean_text("一\r\n二\r三", field="note", max_length=64, multiline=True) == "一\n二\n三"


def test_text_is_trimmed_ideographic_space_too() -> None:
    assert clean_text("\u3000 张三 \t", field="name", max_length=2) == "张三"
    assert clean_text("  ", field="note", max_length=10) == ""


def test_empty_after_trimming_is_refused_when_required() -> None:
    with pytest.raises(Invalid) as caught:
        clean_text(" \u3000 ", field="name", max_length=64, required=True)
    assert (caught.value.code, caught.value.details) == ("text_required", {"field": "name"})


def test_length_counts_characters_after_trimming() -> None:
    assert clean_text("  一二三  ", field="name", max_length=3) == "一二三"
    with pytest.raises(Invalid) as caught:
        clean_text("一二三四", field="name", max_length=3)
    assert caught.value.code == "text_too_long"
    assert caught.value.details == {"field": "name", "max_length": 3}


def test_ordinary_text_passes_unchanged() -> None:
    text = "马·阿依古丽 O'Brien‑李 😀 ‍👩‍💻"  # middle dot, apostrophe, emoji with ZWJ
    assert clean_text(text, field="name", max_length=64) == text
    assert forbidden_character(text) is None


def test_full_width_forms_normalise_to_ascii_and_nothing_else() -> None:
    assert normalize_width("６４０４２５ｘＡ\u3000") == "640425xA "
    assert normalize_width("٦٤٠") == "٦٤٠"  # Arabic-Indic digits stay (and are refused later)
    assert normalize_width("张三") == "张三"


class Inner(RequestModel):
    note: Annotated[str, MULTILINE] = Field("", max_length=20)
    secret: Annotated[str, VERBATIM] = ""


class Outer(RequestModel):
    name: str = Field("", max_length=8)
    title: str = Field("", min_length=1, max_length=8)
    form: Annotated[dict[str, Any], MULTILINE] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    inner: Inner | None = None
    inners: list[Inner] = Field(default_factory=list)
    ratio: float = 0.0


def _error(**data: Any) -> dict[str, Any]:
    with pytest.raises(ValidationError) as caught:
        Outer(**{"title": "标题", **data})
    first = caught.value.errors()[0]
    return {
        "type": first["type"],
        "loc": first["loc"],
        "field": (first.get("ctx") or {}).get("field"),
    }


def test_request_models_trim_and_check_every_string() -> None:
    model = Outer(
        name=" 张三 ",
        title=" 标题 ",
        form={" 地址 ": " 白阳镇\r\n1号 ", "n": [" a "]},
        tags=[" x "],
        inner={"note": " 一\n二 ", "secret": " pass word "},
    )
    assert (model.name, model.title, model.tags) == ("张三", "标题", ["x"])
    assert model.form == {"地址": "白阳镇\n1号", "n": ["a"]}
    assert model.inner is not None and model.inner.note == "一\n二"
    assert model.inner.secret == " pass word "  # passwords are taken as typed


def test_request_models_name_the_field_of_a_bad_value() -> None:
    assert _error(name="a\x00") == {"type": "invalid_text", "loc": ("name",), "field": "name"}
    assert _error(name="abcdefghi")["type"] == "text_too_long"
    assert _error(title="   ") == {"type": "text_required", "loc": ("title",), "field": "title"}
    assert _error(form={"地址": "a\u202eb"})["field"] == "form.地址"
    assert _error(form={"a\x00": "b"})["field"] == "form.a\x00"  # keys are checked too
    assert _error(tags=["ok", "\x1b[31m"])["field"] == "tags.1"
    assert _error(name="a\nb")["type"] == "invalid_text"  # single-line field
    nested = _error(inners=[{"note": "ok"}, {"note": "\x07"}])
    assert nested == {"type": "invalid_text", "loc": ("inners", 1, "note"), "field": "note"}
    assert _error(inner={"secret": "pass\x00"})["type"] == "invalid_text"


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_request_models_refuse_nan_and_infinity(number: float) -> None:
    assert _error(ratio=number)["type"] == "invalid_number"
    assert _error(form={"amount": number}) == {
        "type": "invalid_number",
        "loc": ("form",),
        "field": "form.amount",
    }
    assert _error(form={"rows": [{"x": number}]})["field"] == "form.rows.0.x"
