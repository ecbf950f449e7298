"""The canonical bytes assembled from values (verification's fast path) are exactly the
encoder's, for every kind of value an entry can hold."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tongban.audit import service

AWKWARD = [
    "",
    "受理审查：核对申请材料",
    'a "quoted" \\ path',
    "tab\tnew\nline\x01",
    "😀 \u2028 é",
    "x" * 300,
]


def entries(count: int) -> list[dict[str, Any]]:
    pick = random.Random(11).choice
    start = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    return [
        {
            "seq": seq,
            "at": start + timedelta(microseconds=seq * 1_000_003),
            "actor_user_id": pick([None, 0, 3, 2**40]),
            "actor_username": pick(AWKWARD),
            "actor_name": pick(AWKWARD),
            "actor_role": pick(["clerk", "anonymous"]),
            "actor_department_code": pick([None, "11640425MB00010TBR"]),
            "action": pick(["read", "keys.rotate"]),
            "subject_kind": "case",
            "subject_ref": pick(AWKWARD),
            "person_ref": pick([None, "4f0c" * 8]),
            "fields": pick([[], ["applicant_name", "申请人"], [pick(AWKWARD)]]),
            "purpose_code": pick(AWKWARD),
            "purpose_text": pick(AWKWARD),
            "result": pick(["ok", "refused"]),
            "related": pick([None, True, False]),
            "client_addr": pick([None, "127.0.0.1", "::1"]),
        }
        for seq in range(1, count + 1)
    ]


def test_values_give_the_same_bytes_as_the_encoder() -> None:
    for entry in entries(2000):
        values = [entry[name] for name in service.HASHED_FIELDS]
        values[1] = entry["at"].isoformat(timespec="microseconds")
        values[11] = service.fields_fragment(entry["fields"])
        assert service.canonical_values(*values) == service.canonical(entry)


def test_the_precomputed_mac_is_the_entry_mac() -> None:
    from tongban.audit.verify import entry_mac_function

    for key in (b"k", bytes(range(32)), bytes(range(64)), bytes(range(100))):
        mac_of = entry_mac_function(key)
        for n in range(50):
            leaf = bytes([n]) * 32
            assert mac_of(leaf) == service.entry_mac(leaf.hex(), key)


def test_verify_builds_the_same_bytes_from_rows_as_each_driver_gives_them() -> None:
    """verify's fast path (cached runs of the JSON) against the encoder, for rows as
    SQLite gives them (text times, JSON text, 0/1) and as PostgreSQL does (typed)."""
    import json

    from tongban.audit import verify

    for entry in entries(2000):
        typed = [entry[name] for name in service.HASHED_FIELDS]
        as_sqlite = list(typed)
        as_sqlite[1] = entry["at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        as_sqlite[11] = json.dumps(entry["fields"])
        as_sqlite[15] = None if entry["related"] is None else int(entry["related"])
        expected = service.canonical(entry)
        for row in (typed, as_sqlite):
            assert verify._canonical_of_row((*row, "", "")) == expected
