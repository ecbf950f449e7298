"""National identifiers: 居民身份证号 (GB 11643) and 统一社会信用代码 (GB 32100).

The identity-number check is ours: python-stdnum's ``cn.ric`` also requires the
area code to be in its bundled location list, which lacks Ningxia's Guyuan
counties (640425 彭阳县 among them) — and people keep numbers issued under
retired area codes anyway. The credit-code check uses python-stdnum.
"""

from __future__ import annotations

from datetime import date

from stdnum.cn import uscc
from stdnum.exceptions import ValidationError

from tongban.kit.clock import local_today
from tongban.kit.text import normalize_width

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"
# GB/T 2260 province-level codes, the first two digits of every identity number.
PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_CHARACTERS = frozenset(USCC_ALPHABET)


ASCII_DIGITS = frozenset("0123456789")
EARLIEST_BIRTH = date(1900, 1, 1)


def normalize_id_number(value: str) -> str:
    """Trimmed, upper case, full-width digits and Ｘ as ASCII (typed with a Chinese input
    method: ６４０４２５…). Any other non-ASCII character stays, so the number is refused."""
    return normalize_width(value).strip().upper()


def is_valid_id_number(value: str) -> bool:
    """True for an 18-digit 居民身份证号: a known province, a real birth date from 1900 up to
    today, and a correct check digit. Digits are ASCII (after normalising full-width ones):
    Arabic-Indic and other Unicode digits are refused, though ``str.isdigit`` and ``int``
    accept them."""
    value = normalize_id_number(value)
    if len(value) != 18 or not set(value[:17]) <= ASCII_DIGITS or value[17] not in RIC_CHECK:
        return False
    if value[:2] not in PROVINCE_PREFIXES:
        return False
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if not EARLIEST_BIRTH <= birth <= local_today():
        return False
    return id_number_check_char(value[:17]) == value[17]


def id_number_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, RIC_WEIGHTS, strict=True))
    return RIC_CHECK[total % 11]


def make_id_number(area: str, birth: date, sequence: int) -> str:
    """A valid (fictional) identity number: area + birth date + sequence + check."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_number_check_char(first17)


def normalize_uscc(value: str) -> str:
    """Trimmed, upper case, full-width letters and digits as ASCII."""
    return normalize_width(value).strip().upper()


def is_valid_uscc(value: str) -> bool:
    """True for an 18-character 统一社会信用代码 with a correct check character (ASCII only,
    after normalising full-width characters)."""
    value = normalize_uscc(value)
    if len(value) != 18 or not set(value) <= USCC_CHARACTERS:
        return False
    try:
        uscc.validate(value)
    except ValidationError:
        return False
    return True


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)
