"""Find and mask Chinese personal numbers in free text (notes, complaints, uploads).

Three kinds are recognised:

* ``id_number`` — 18-character 居民身份证号: province prefix, real birth date and the
  GB 11643 check digit (``tongban.kit.ids.is_valid_id_number``; lower-case x accepted).
* ``mobile`` — mainland mobile ``1[3-9]x`` + 8 digits, optionally prefixed by
  ``+86`` / ``86`` / ``0086`` and grouped 3-4-4 with spaces or hyphens.
* ``bank_card`` — 16–19 digits, contiguous or grouped in fours, Luhn-valid, and
  either UnionPay (``62`` prefix) or preceded within ``CONTEXT_WINDOW`` characters by
  a card keyword (卡号, 银行卡, 账号 …). Luhn alone accepts one random number in ten,
  and a ``4x`` prefix covers identity numbers of provinces 41–46, so identity
  numbers win over cards and non-UnionPay cards need context. With context any
  Luhn-valid 16–19 digits count (建行 4367…, 工行 9558… debit cards are 19 digits
  and not UnionPay-prefixed). An 18-digit number starting 1–8 is identity-shaped
  (62 is also 甘肃) and needs context too, so a mistyped identity number is never
  taken for a card on its own.

Numbers embedded in longer digit runs never match: a candidate must have no ASCII
digit immediately before or after it. Nor do digits inside a long hexadecimal token
with letters in it (a SHA-256 digest, a request id: ``sha256:a13812345678b…``). Only
ASCII digits are recognised.

One compiled pattern with named alternatives finds structural candidates; the
checksums run in Python on candidates only. The module is pure (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from tongban.kit.ids import is_valid_id_number
from tongban.kit.masking import mask_id_number, mask_phone

Kind = Literal["id_number", "mobile", "bank_card"]

CONTEXT_WINDOW = 12
CARD_KEYWORDS = (
    "卡号",
    "银行卡",
    "账号",
    "帐号",
    "账户",
    "帐户",
    "借记卡",
    "信用卡",
    "储蓄卡",
    "card no",
    "account",
)
UNIONPAY_PREFIX = "62"

# One pattern, kept fast by starting with a plain character class: the engine
# then skips quickly to the next digit or "+", and only there tries the
# alternatives. ``(?<![0-9].)`` after the first character keeps candidates out
# of longer digit runs (no digit just before), each alternative re-checks its
# own first character with a one-character lookbehind and ends with
# ``(?![0-9])`` (no digit just after). The empty named group at the end of an
# alternative names the kind (``match.lastgroup``). Order matters: identity
# numbers first (an 18-digit 4x/62 number is a person before it is a card).
_PATTERN = re.compile(
    r"""
    [+0-9](?<![0-9].)
    (?:
        (?<=[1-8])[0-9]{16}[0-9Xx](?![0-9])(?P<id_number>)
      | (?:(?<=1)|(?:(?<=\+)86|(?<=0)086|(?<=8)6)[ -]?1)
        [3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9])(?P<mobile>)
      | (?<=[0-9])(?:[0-9]{15,18}|[0-9]{3}(?:[ -][0-9]{4}){3}(?:[ -][0-9]{1,3})?)
        (?![0-9])(?P<bank_card>)
    )
    """,
    re.VERBOSE,
)
_CONTEXT = re.compile("|".join(re.escape(k) for k in CARD_KEYWORDS), re.IGNORECASE)
_NON_DIGIT = re.compile(r"[^0-9]")
_STARS = str.maketrans("0123456789", "*" * 10)
_LUHN_DOUBLE = {str(d): (2 * d if d < 5 else 2 * d - 9) for d in range(10)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One personal number in a text: ``text[start:end] == value``."""

    kind: Kind
    start: int
    end: int
    value: str


def luhn_ok(digits: str) -> bool:
    """The Luhn (ISO/IEC 7812) check over a string of ASCII digits."""
    total = sum(map(int, digits[-1::-2])) + sum(map(_LUHN_DOUBLE.__getitem__, digits[-2::-2]))
    return total % 10 == 0


def _has_card_context(text: str, start: int) -> bool:
    return _CONTEXT.search(text, max(0, start - CONTEXT_WINDOW), start) is not None


def _is_card(digits: str, text: str, start: int) -> bool:
    if not 16 <= len(digits) <= 19:
        return False
    if not (digits.startswith(UNIONPAY_PREFIX) or _has_card_context(text, start)):
        return False
    return luhn_ok(digits)


def _card_span(text: str, start: int, value: str) -> int | None:
    """End of a valid card starting at ``start`` with candidate text ``value``, or None."""
    digits = _NON_DIGIT.sub("", value)
    if _is_card(digits, text, start):
        return start + len(value)
    # A grouped 16-digit card followed by a short number (" 12月") may have
    # swallowed it as a fifth group: retry the first four groups alone.
    if len(value) > 19:  # grouped: 4 groups of 4 = 19 characters
        head = value[:19]
        if _is_card(_NON_DIGIT.sub("", head), text, start):
            return start + 19
    return None


_HEX = frozenset("0123456789abcdefABCDEF")
_HEX_LETTERS = frozenset("abcdefABCDEF")
DIGEST_MIN_LENGTH = 32  # a hex token this long is a digest or an id (sha256:…), not a number


def _in_digest(text: str, start: int, end: int) -> bool:
    """The candidate sits inside a long hexadecimal token holding letters (a hash, a request
    id): its digits are part of that token, not a person's number."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    if before not in _HEX_LETTERS and after not in _HEX_LETTERS:
        return False  # the usual case: a number between words, spaces or punctuation
    left, right = start, end
    while left > 0 and text[left - 1] in _HEX:
        left -= 1
    while right < len(text) and text[right] in _HEX:
        right += 1
    token = text[left:right]
    return len(token) >= DIGEST_MIN_LENGTH and not _HEX_LETTERS.isdisjoint(token)


def _check(m: re.Match[str]) -> tuple[Kind, int] | None:
    """(kind, end) of the personal number a candidate match holds, or None."""
    kind = m.lastgroup
    text = m.string
    start = m.start()
    if _in_digest(text, start, m.end()):
        return None
    if kind == "id_number":
        value = m.group()
        if is_valid_id_number(value):
            return "id_number", m.end()
        # Shaped like an identity number but not one (typo, bad date): a card only
        # with context, since a 62… (甘肃) number passes Luhn one time in ten.
        if (
            value[-1] not in "Xx"
            and _has_card_context(text, start)
            and _is_card(value, text, start)
        ):
            return "bank_card", m.end()
        return None
    if kind == "mobile":
        return "mobile", m.end()
    end = _card_span(text, start, m.group())
    return None if end is None else ("bank_card", end)


def _scan(text: str) -> Iterator[Finding]:
    for m in _PATTERN.finditer(text):
        hit = _check(m)
        if hit is not None:
            start, end = m.start(), hit[1]
            yield Finding(hit[0], start, end, text[start:end])


def find(text: str) -> list[Finding]:
    """Every identity number, mobile number and bank card number in ``text``, in order."""
    return list(_scan(text))


def _digit_index(value: str, n: int) -> int:
    """Index just past the ``n``-th digit of ``value`` (0 for n == 0)."""
    if n == 0:
        return 0
    seen = 0
    for i, ch in enumerate(value):
        if "0" <= ch <= "9":
            seen += 1
            if seen == n:
                return i + 1
    return len(value)


def _mask_digits(value: str, keep_head: int, keep_tail: int) -> str:
    """Replace digits by ``*`` except the first/last few; separators stay as written."""
    total = sum(1 for ch in value if "0" <= ch <= "9")
    i = _digit_index(value, keep_head)
    j = _digit_index(value, total - keep_tail)
    return value[:i] + value[i:j].translate(_STARS) + value[j:]


def _split_prefix(value: str) -> tuple[str, str]:
    """(+86 prefix as written, national number) of a matched mobile number."""
    digits_seen = 0
    for i in range(len(value) - 1, -1, -1):
        if value[i].isdigit():
            digits_seen += 1
            if digits_seen == 11:
                return value[:i], value[i:]
    return "", value


def _mask_value(kind: Kind, value: str) -> str:
    if kind == "id_number":
        return mask_id_number(value)  # first 6 + last 4
    if kind == "mobile":
        prefix, national = _split_prefix(value)
        masked = mask_phone(national) if national.isdigit() else _mask_digits(national, 3, 4)
        return prefix + masked
    if value.isdigit():
        return "*" * (len(value) - 4) + value[-4:]
    return _mask_digits(value, 0, 4)  # bank card: last 4, grouping kept


def mask_finding(finding: Finding) -> str:
    """The display form of one finding (same length as its value)."""
    return _mask_value(finding.kind, finding.value)


def _replace(m: re.Match[str]) -> str:
    hit = _check(m)
    if hit is None:
        return m.group()
    kind, end = hit
    text = m.string
    return _mask_value(kind, text[m.start() : end]) + text[end : m.end()]


def mask_text(text: str) -> str:
    """``text`` with every finding replaced by its masked form (same length)."""
    return _PATTERN.sub(_replace, text)


def mask_stream(lines: Iterable[str]) -> Iterator[str]:
    """Mask line by line; the tail of the previous line still counts as card context.

    Numbers do not span lines (separators are spaces and hyphens only), so each
    line is masked on its own, with the last ``CONTEXT_WINDOW`` characters of the
    previous line prepended for context ("银行卡号：\\n6222 …") and cut off again.
    """
    carry = ""
    for line in lines:
        if carry:
            joined = carry + line
            yield mask_text(joined)[len(carry) :]
        else:
            yield mask_text(line)
        carry = line[-CONTEXT_WINDOW:]
