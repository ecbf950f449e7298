"""Free-text scanner: rules, masking formats, and a seeded corpus of planted numbers and decoys.

Every identity number here is generated (make_id_number); none belongs to a real person.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from tongban.kit.ids import PROVINCE_PREFIXES, id_number_check_char, is_valid_id_number
from tongban.kit.ids import make_id_number as make_id
from tongban.privacy.scanner import Finding, Kind, find, luhn_ok, mask_stream, mask_text

ID = make_id("640425", date(1990, 1, 1), 123)  # fictional, valid
HENAN_ID = make_id("410105", date(1985, 6, 30), 456)  # 41…: the 4x card-prefix trap


def luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def luhn_break(number: str) -> str:
    last = number[-1]
    return number[:-1] + next(d for d in "0123456789" if d != last)


def group4(number: str, sep: str = " ") -> str:
    return sep.join(number[i : i + 4] for i in range(0, len(number), 4))


UP16 = luhn_complete("622202" + "123456789")  # 16 digits
UP19 = luhn_complete("621700" + "012345678901")  # 19 digits
VISA16 = luhn_complete("436742" + "012345678")  # 4x, 16 digits
MC16 = luhn_complete("512345" + "987654321")  # 5x, 16 digits


def kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, f.value) for f in find(text)]


# -- identity numbers ---------------------------------------------------------


def test_identity_number_found_and_masked() -> None:
    text = f"身份证号{ID}，已核验。"
    [f] = find(text)
    assert f == Finding("id_number", 4, 22, ID)
    assert text[f.start : f.end] == ID
    assert mask_text(text) == f"身份证号640425********{ID[-4:]}，已核验。"


def test_identity_number_with_lower_case_x() -> None:
    sample = "11010519491231002x"  # GB 11643 standard sample, lower-case x
    assert kinds(f"号码{sample}。") == [("id_number", sample)]
    assert mask_text(sample) == "110105********002x"


@pytest.mark.parametrize(
    "value",
    [
        ID[:17] + ("0" if ID[17] != "0" else "1"),  # wrong check digit
        "640425199002300018"[:17] + id_number_check_char("64042519900230001"),  # 30 Feb
        "99" + ID[2:17] + id_number_check_char("99" + ID[2:17]),  # no such province
    ],
)
def test_identity_look_alikes_are_left_alone(value: str) -> None:
    assert not is_valid_id_number(value)
    assert find(f"编号{value}。") == []


def test_identity_number_of_province_4x_is_not_a_card_even_with_context() -> None:
    assert kinds(f"账号{HENAN_ID}") == [("id_number", HENAN_ID)]


def test_identity_number_inside_longer_run_is_ignored() -> None:
    assert find(f"1{ID}") == []
    assert find(f"{ID}7") == []


# -- mobile numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "masked"),
    [
        ("13912345678", "139****5678"),
        ("139 1234 5678", "139 **** 5678"),
        ("139-1234-5678", "139-****-5678"),
        ("+8613912345678", "+86139****5678"),
        ("+86 139 1234 5678", "+86 139 **** 5678"),
        ("+86-139-1234-5678", "+86-139-****-5678"),
        ("86 13912345678", "86 139****5678"),
        ("8613912345678", "86139****5678"),
        ("0086 13912345678", "0086 139****5678"),
        ("19912345678", "199****5678"),
    ],
)
def test_mobile_formats(written: str, masked: str) -> None:
    text = f"电话：{written}。"
    assert kinds(text) == [("mobile", written)]
    assert mask_text(text) == f"电话：{masked}。"


@pytest.mark.parametrize(
    "value",
    ["12912345678", "10912345678", "213912345678", "139123456789", "1391234567"],
)
def test_mobile_look_alikes(value: str) -> None:
    assert find(f"编号{value}号") == []


# -- bank cards ---------------------------------------------------------------


def test_unionpay_cards_need_no_context() -> None:
    assert kinds(f"转入{UP16}") == [("bank_card", UP16)]
    assert kinds(f"转入{UP19}") == [("bank_card", UP19)]
    assert mask_text(UP19) == "*" * 15 + UP19[-4:]


def test_grouped_card_keeps_separators() -> None:
    grouped = group4(UP19)
    assert kinds(f"银行卡号：{grouped}") == [("bank_card", grouped)]
    masked = mask_text(grouped)
    assert masked == "**** **** **** ***" + UP19[15] + " " + UP19[16:]
    assert mask_text(group4(UP16, "-")) == "****-****-****-" + UP16[-4:]


def test_grouped_16_digit_card_followed_by_short_number() -> None:
    grouped = group4(UP16)
    text = f"卡号 {grouped} 12月到账"
    assert kinds(text) == [("bank_card", grouped)]
    assert mask_text(text) == f"卡号 **** **** **** {UP16[-4:]} 12月到账"


@pytest.mark.parametrize("card", [VISA16, MC16])
@pytest.mark.parametrize(
    "context",
    ["卡号", "银行卡", "账号：", "帐号 ", "借记卡", "信用卡", "储蓄卡", "Card No. ", "account "],
)
def test_4x_5x_cards_need_context(card: str, context: str) -> None:
    assert kinds(f"{context}{card}") == [("bank_card", card)]
    assert find(f"编号{card}") == []


def test_context_must_be_near() -> None:
    far = "卡号" + "，" * 13
    assert find(f"{far}{VISA16}") == []
    assert kinds(f"{'，' * 8}卡号：{VISA16}") == [("bank_card", VISA16)]


def test_luhn_invalid_cards_are_left_alone() -> None:
    assert find(f"银行卡号{luhn_break(UP19)}") == []
    assert find(f"卡号 {group4(luhn_break(UP16))}") == []


def test_identity_shaped_non_identity_needs_context() -> None:
    # 18 digits, 62 prefix (甘肃), real date, wrong check digit, but Luhn-valid.
    first17 = "620102199001011" + "23"
    wrong = next(
        first17 + d
        for d in "0123456789"
        if d != id_number_check_char(first17) and luhn_ok(first17 + d)
    )
    assert find(f"编号{wrong}") == []
    assert kinds(f"卡号{wrong}") == [("bank_card", wrong)]


def test_luhn() -> None:
    assert luhn_ok("79927398713")
    assert not luhn_ok("79927398710")


# -- mixed text and streaming -------------------------------------------------


def test_mixed_text_order_and_length_preserved() -> None:
    text = f"申请人{ID}，电话+86 139-1234-5678，银行卡 {group4(UP19)}；金额12,345,678.90元。"
    assert [f.kind for f in find(text)] == ["id_number", "mobile", "bank_card"]
    masked = mask_text(text)
    assert len(masked) == len(text)
    assert "12,345,678.90" in masked
    assert ID not in masked and "1234-5678" not in masked and UP19[:4] not in masked


def test_mask_stream_keeps_context_across_lines() -> None:
    lines = ["补助发放至银行卡号：\n", f"{VISA16}\n", f"编号{VISA16}\n"]
    out = list(mask_stream(lines))
    assert out == ["补助发放至银行卡号：\n", "*" * 12 + VISA16[-4:] + "\n", f"编号{VISA16}\n"]


def test_text_without_numbers_is_unchanged() -> None:
    text = "群众反映窗口排队时间过长，已转办。2026年11月27日"
    assert mask_text(text) == text
    assert find("") == []


# -- seeded corpus: zero misses, zero look-alikes -------------------------------

FILLER = [
    "申请人到窗口咨询低保办理条件。",
    "经核实符合受理条件，予以受理。",
    "群众反映办事指南与窗口要求不一致。",
    "请在五个工作日内补正材料，逾期视为撤回。",
    "The applicant asked about postal delivery today.",
]
CONTEXTS = [
    "银行卡号：",
    "卡号 ",
    "账号",
    "帐号：",
    "借记卡",
    "信用卡号",
    "储蓄卡",
    "card no. ",
    "Account: ",
]
NEUTRAL = ["编号", "记录", "流水号", "订单号", "时间戳", "备注："]
PROVINCES = sorted(PROVINCE_PREFIXES)


def random_digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def planted_id(rng: random.Random) -> str:
    province = rng.choice(PROVINCES + ["41", "42", "43", "44", "45", "46"] * 3)
    area = province + random_digits(rng, 4)
    birth = date(1930, 1, 1) + timedelta(days=rng.randrange(35000))
    value = make_id(area, birth, rng.randrange(1000))
    return value.lower() if rng.random() < 0.3 else value


def planted_mobile(rng: random.Random) -> str:
    n = "1" + rng.choice("3456789") + random_digits(rng, 9)
    sep = rng.choice(["", " ", "-"])
    body = n if not sep else sep.join((n[:3], n[3:7], n[7:]))
    return rng.choice(["", "+86", "+86 ", "86", "86-", "0086 "]) + body


def planted_card(rng: random.Random) -> tuple[str, str]:
    """(context, card): UnionPay 16/19 digits, or 4x/5x 16 digits — always with context."""
    choice = rng.randrange(3)
    if choice == 0:
        number = luhn_complete("62" + random_digits(rng, 13))
    elif choice == 1:
        number = luhn_complete("62" + random_digits(rng, 16))
    else:
        number = luhn_complete(rng.choice("45") + random_digits(rng, 14))
    if rng.random() < 0.4:
        number = group4(number, rng.choice(" -"))
    return rng.choice(CONTEXTS), number


def decoy(rng: random.Random) -> str:
    """A number that must never be reported."""
    kind = rng.randrange(10)
    if kind == 0:  # identity number with a wrong check digit
        good = planted_id(rng).upper()
        return good[:17] + next(c for c in "0123456789X" if c != good[17])
    if kind == 1:  # impossible date, correct check digit
        first17 = (
            rng.choice(PROVINCES)
            + random_digits(rng, 4)
            + "1990"
            + rng.choice(["0230", "1332", "0431", "0000", "1200"])
            + random_digits(rng, 3)
        )
        return first17 + id_number_check_char(first17)
    if kind == 2:  # Luhn-invalid card, even after context words are absent
        return luhn_break(luhn_complete("62" + random_digits(rng, rng.choice((13, 16)))))
    if kind == 3:  # Luhn-valid 16–19 digits, no 62 prefix, no context
        while True:
            n = luhn_complete(rng.choice("345789") + random_digits(rng, rng.randrange(14, 18)))
            if not is_valid_id_number(n):
                return n
    if kind == 4:  # 11 digits starting 12 / 10
        return rng.choice(["12", "10"]) + random_digits(rng, 9)
    if kind == 5:  # order number, 14 digits
        return "2026" + random_digits(rng, 10)
    if kind == 6:  # timestamp to the millisecond, 17 digits
        month, day = rng.randrange(1, 13), rng.randrange(1, 29)
        return f"2026{month:02d}{day:02d}153000{rng.randrange(1000):03d}"
    if kind == 7:  # mobile inside a longer digit run
        mobile = "1" + rng.choice("3456789") + random_digits(rng, 9)
        return rng.choice("23579") + mobile + random_digits(rng, rng.randrange(1, 4))
    if kind == 8:  # amount
        return f"{rng.randrange(1, 1000)},{rng.randrange(1000):03d},{rng.randrange(1000):03d}.90"
    # a mobile inside a 20+ digit run
    return random_digits(rng, 5) + "13912345678" + random_digits(rng, 6)


def build_corpus(seed: int, items: int) -> tuple[str, list[Finding], list[str]]:
    rng = random.Random(seed)
    parts: list[str] = []
    pos = 0
    expected: list[Finding] = []
    decoys: list[str] = []

    def add(s: str) -> None:
        nonlocal pos
        parts.append(s)
        pos += len(s)

    kind: Kind
    for _ in range(items):
        add(rng.choice(FILLER))  # ≥ 12 neutral characters between items
        what = rng.randrange(4)
        if what == 0:
            add(rng.choice(["身份证号", "公民身份号码：", "证件号 "]))
            value, kind = planted_id(rng), "id_number"
        elif what == 1:
            add(rng.choice(["电话", "联系方式：", "手机 "]))
            value, kind = planted_mobile(rng), "mobile"
        elif what == 2:
            context, value = planted_card(rng)
            add(context)
            kind = "bank_card"
        else:
            add(rng.choice(NEUTRAL))
            value = decoy(rng)
            decoys.append(value)
            add(value)
            add(rng.choice(["。", "元。", "号，", " "]))
            continue
        expected.append(Finding(kind, pos, pos + len(value), value))
        add(value)
        add(rng.choice(["。", "，", " ", "；请核实。"]))
    return "".join(parts), expected, decoys


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_corpus_zero_misses_zero_look_alikes(seed: int) -> None:
    text, expected, decoys = build_corpus(seed, 2000)
    assert find(text) == expected
    masked = mask_text(text)
    assert len(masked) == len(text)
    for f in expected:
        assert f.value not in masked
    for d in decoys:
        assert d in masked
    # the same text streamed line by line masks identically
    assert "".join(mask_stream(text.replace("。", "。\n").splitlines(keepends=True))) == (
        mask_text(text.replace("。", "。\n"))
    )


def test_digits_inside_a_digest_are_not_a_number() -> None:
    # A request hash in the access log happened to hold "13812345678" between hex letters.
    digest = "9f2a" + "13812345678" + "b" + "40f1c7e2d9a8b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0"
    text = f"请求 sha256:{digest}；应答"
    assert find(text) == [] and mask_text(text) == text
    uuid = "req-5e1f03a4c2b84d6e9f70a1b2c3d4e5f6"
    assert mask_text(uuid) == uuid
    # Short tokens and words are not digests: the number is still masked.
    assert mask_text("tel13812345678") == "tel138****5678"
    assert mask_text("联系人 13812345678 abc") == "联系人 138****5678 abc"
    assert mask_text("ab13812345678cd") == "ab138****5678cd"
