"""GB/T 2260 code rules."""

from __future__ import annotations


def level_of(code: str) -> int:
    """1 province, 2 prefecture, 3 county, 4 township (12-digit statistical code)."""
    if len(code) == 12:
        return 4
    if len(code) != 6 or not code.isdigit():
        raise ValueError(f"not a GB/T 2260 code: {code}")
    if code[2:] == "0000":
        return 1
    if code[4:] == "00":
        return 2
    return 3


def parent_of(code: str) -> str | None:
    level = level_of(code)
    if level == 4:
        return code[:6]
    if level == 3:
        return code[:4] + "00"
    if level == 2:
        return code[:2] + "0000"
    return None


def is_valid_code(code: str) -> bool:
    try:
        level_of(code)
    except ValueError:
        return False
    return True


def region_prefix(code: str) -> str:
    """The prefix shared by every code in a region's subtree (640400 → 6404)."""
    code = code[:6]
    while code.endswith("00") and len(code) > 2:
        code = code[:-2]
    return code
