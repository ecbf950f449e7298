"""Message texts: every kind renders in Chinese and English, the web marks every string,
and no rendered message carries an unmasked personal number."""

from __future__ import annotations

import pytest

from tongban.notify import texts
from tongban.privacy import scanner
from tongban.web import i18n
from tongban.web.messages import MESSAGE_TEXTS

ID_NUMBER = "640425199003159981"  # fictional, valid check digit
PHONE = "13912345678"
CARD = "6222021234567890128"  # UnionPay-prefixed, Luhn-valid
PARAMS = {
    "code": "483920",
    "purpose": "signup",
    "minutes": 10,
    "case_no": "640425-20261203-000001",
    "title": "最低生活保障申请",
    "query_code": "A1B2C3",
    "missing": f"户口簿（申请人 {ID_NUMBER}）、银行卡 {CARD}",
    "method": "electronic",
    "complaint_no": "TS20261203ABC123",
    "target": f"窗口电话 {PHONE}",
    "deadline": "response",
    "due": "2026-12-04 10:00",
}


def test_the_web_marks_every_message_text_for_translation() -> None:
    assert sorted(set(MESSAGE_TEXTS)) == sorted(set(texts.templates().strings()))


@pytest.mark.parametrize("kind", sorted(texts.templates().kinds))
@pytest.mark.parametrize("account", [True, False])
def test_every_kind_renders_without_personal_numbers(kind: str, account: bool) -> None:
    params = texts.clean_params(PARAMS)
    rendered = texts.render(kind, params, account=account)
    for text in (rendered.title, rendered.text, texts.sms_text(rendered)):
        assert "%(" not in text and "—" not in text, text
        assert scanner.find(text) == [], text
    assert ID_NUMBER not in rendered.text and PHONE not in rendered.text


def test_parameters_are_masked_when_queued() -> None:
    cleaned = texts.clean_params(PARAMS)
    assert "640425********9981" in str(cleaned["missing"])
    assert "139****5678" in str(cleaned["target"])
    assert cleaned["code"] == "483920" and cleaned["minutes"] == 10


def test_a_verification_code_reads_well() -> None:
    rendered = texts.render(
        "verification_code", {"code": "483920", "purpose": "signup", "minutes": 5}, account=False
    )
    assert rendered.text.startswith("验证码 483920，用于注册通办账号，5 分钟内有效。")
    assert texts.sms_text(rendered).startswith("【通办】验证码 483920")


def test_case_texts_say_how_to_follow_up() -> None:
    params = {"case_no": "640425-20261203-000001", "title": "最低生活保障申请", "query_code": "X9"}
    with_account = texts.render("case_accepted", params, account=True).text
    without = texts.render("case_accepted", params, account=False).text
    assert "我的办件" in with_account and "X9" not in with_account
    assert "办件查询" in without and "查询码 X9" in without


def test_english_uses_the_catalog_when_translated() -> None:
    english = {"办件已受理": "Application accepted", "受理": "accepted"}

    def gettext(message: str, **params: object) -> str:
        text = english.get(message, message)
        return text % params if params else text

    rendered = texts.render(
        "case_accepted", {"case_no": "N1", "title": "T"}, account=True, gettext=gettext
    )
    assert rendered.title == "Application accepted"
    # Untranslated strings fall back to Chinese (the shipped catalog gains them on merge).
    assert "N1" in rendered.text
    assert i18n.make_gettext("en")("首页") == "Home"
