"""Signed checkpoints: when they are made, what they sign, the witness file, the keys."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from audit_support import READER, access, append, audit_settings, execute, witness_lines
from tongban.audit import checkpoints, repository, service, signing
from tongban.audit.checkpoints import Checkpoint
from tongban.audit.models import AuditCheckpoint
from tongban.audit.verify import verify
from tongban.db import transaction
from tongban.kit.clock import frozen

# RFC 8032 §7.1, test 1 (empty message).
ED25519_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
ED25519_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
ED25519_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)
# An SM2 signature made by another implementation, GmSSL 3.2 (through gmssl_pyx 2.1.0),
# with the default signer id: ours must accept it (and so interoperate with 国密 tools).
GMSSL_PUBLIC = (
    "04468c912efbddade9feb8c6aad53a3953c19b6ab87b835e1f05fe802407b6a59f"
    "4a810fe863e932ef1ebd27f8ff85d6100484bf7f9b6b70b8c5c3f8bb9a3de0cb"
)
GMSSL_MESSAGE = "tongban 通办: SM2 signature made by GmSSL 3.2 (gmssl_pyx 2.1.0)".encode()
GMSSL_SIGNATURE = (
    "3046022100aae767e1970602e333bd5ae5c72c10141faad7b9285e7d31a095247aa5318d12"
    "022100f532abb23d532ade3b2d006bf2134bce00a73e13451ee172dd713e16b69181bb"
)


@pytest.fixture
def witness(clean_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    with audit_settings(
        monkeypatch,
        tmp_path,
        audit_checkpoint_every=5,
        audit_checkpoint_seconds=60,
        audit_signing_key_file=tmp_path / "signing.key",
    ) as path:
        yield path


def stored_sizes(url: str) -> list[int]:
    with transaction(url) as session:
        return [c.tree_size for c in checkpoints.stored(session)]


def test_checkpoints_follow_the_count(clean_db: str, witness: Path) -> None:
    # The first append is signed at once (no checkpoint yet); then every 5 entries or more.
    append(clean_db, batches=8, per_batch=2)
    assert stored_sizes(clean_db) == [2, 8, 14]
    with transaction(clean_db) as session:
        head = repository.head(session)
        assert head is not None and (head.tree_size, head.last_checkpoint_size) == (16, 14)


def test_checkpoints_follow_the_clock(clean_db: str, witness: Path) -> None:
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    for seconds in (0, 30, 59, 61, 100):
        with frozen(start + timedelta(seconds=seconds)):
            append(clean_db, batches=1, per_batch=1)
    assert stored_sizes(clean_db) == [1, 4]


def test_a_checkpoint_signs_origin_size_root_and_time(clean_db: str, witness: Path) -> None:
    append(clean_db, batches=1, per_batch=3)
    with transaction(clean_db) as session:
        (checkpoint,) = checkpoints.stored(session)
        head = repository.head(session)
        assert head is not None and len(head.log_id) == 32
        assert checkpoint.origin == head.log_id
    keys = signing.signing_keys()
    assert checkpoint.key_id == keys.current.key_id
    assert (
        checkpoint.signed_bytes()
        == (
            f"tongban-audit-checkpoint/1\n{checkpoint.origin}\n3\n{checkpoint.root_hash}\n"
            f"{checkpoint.signed_at.isoformat(timespec='microseconds')}\n"
        ).encode()
    )
    signature = base64.b64decode(checkpoint.signature)
    assert keys.current.verify(checkpoint.signed_bytes(), signature)
    assert checkpoints.signature_problem(checkpoint, keys) is None
    moved = Checkpoint(**{**checkpoint.__dict__, "tree_size": 2})
    assert checkpoints.signature_problem(moved, keys) == "bad_signature"


def test_the_witness_line_is_written_only_after_commit(clean_db: str, witness: Path) -> None:
    with transaction(clean_db) as session:
        service.record(session, actor=READER, access=access(1))
        assert witness_lines(witness) == []  # not yet committed
    (line,) = witness_lines(witness)
    with transaction(clean_db) as session:
        (stored,) = checkpoints.stored(session)
    assert Checkpoint.from_line(line) == stored
    assert json.loads(line)["tree_size"] == 1


def test_a_rolled_back_checkpoint_is_never_published(clean_db: str, witness: Path) -> None:
    with pytest.raises(RuntimeError), transaction(clean_db) as session:
        service.record(session, actor=READER, access=access(1))
        raise RuntimeError("rolled back")
    assert witness_lines(witness) == [] and stored_sizes(clean_db) == []
    # Inside a savepoint that is rolled back, while the outer transaction commits.
    append(clean_db, batches=1, per_batch=1)
    with transaction(clean_db) as session:
        service.record(session, actor=READER, access=access(2))
        savepoint = session.begin_nested()
        assert checkpoints.create_checkpoint(session) is not None
        savepoint.rollback()
    assert [Checkpoint.from_line(line).tree_size for line in witness_lines(witness)] == [1]
    assert stored_sizes(clean_db) == [1]
    assert verify(clean_db).ok


def test_a_savepoint_neither_publishes_early_nor_drops_the_outer_checkpoint(
    clean_db: str, witness: Path
) -> None:
    append(clean_db, batches=1, per_batch=1)  # checkpoint at 1, published
    with transaction(clean_db) as session:
        service.record(session, actor=READER, access=access(2))
        with session.begin_nested():  # released: not yet a commit
            assert checkpoints.create_checkpoint(session) is not None
        assert len(witness_lines(witness)) == 1  # nothing written before the real commit
        savepoint = session.begin_nested()
        savepoint.rollback()  # a later savepoint rolled back keeps the checkpoint at 2
    assert [Checkpoint.from_line(line).tree_size for line in witness_lines(witness)] == [1, 2]
    assert verify(clean_db).ok


def test_create_checkpoint_signs_only_new_entries(clean_db: str, witness: Path) -> None:
    append(clean_db, batches=1, per_batch=1)
    with transaction(clean_db) as session:
        assert checkpoints.create_checkpoint(session) is None  # already signed at 1
        service.record(session, actor=READER, access=access(2))  # not due yet
        made = checkpoints.create_checkpoint(session)
        assert made is not None and made.tree_size == 2
    assert len(witness_lines(witness)) == 2


def test_the_signing_key_file_is_private_and_names_the_key(witness: Path, tmp_path: Path) -> None:
    keys = signing.signing_keys()
    path = tmp_path / "signing.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.current.algorithm == "ed25519"
    assert keys.current.key_id == hashlib.sha256(keys.current.public_key).hexdigest()[:16]
    signing.reset_signing_keys()
    assert signing.signing_keys().current.key_id == keys.current.key_id  # read back, not remade


def test_ed25519_matches_rfc_8032() -> None:
    signer = signing.Ed25519Signer(bytes.fromhex(ED25519_SECRET))
    assert signer.public_key.hex() == ED25519_PUBLIC
    assert signer.sign(b"").hex() == ED25519_SIGNATURE
    assert signer.verify(b"", bytes.fromhex(ED25519_SIGNATURE))
    assert not signer.verify(b"x", bytes.fromhex(ED25519_SIGNATURE))


def test_sm2_accepts_a_gmssl_signature_and_rejects_a_changed_one() -> None:
    verifier = signing.verifier("sm2", bytes.fromhex(GMSSL_PUBLIC))
    signature = bytes.fromhex(GMSSL_SIGNATURE)
    assert verifier.verify(GMSSL_MESSAGE, signature)
    assert not verifier.verify(GMSSL_MESSAGE + b".", signature)
    assert not verifier.verify(GMSSL_MESSAGE, signature[:-1] + bytes([signature[-1] ^ 1]))
    assert not verifier.verify(GMSSL_MESSAGE, b"not der")


def test_sm2_signs_round_trips_and_names_its_key() -> None:
    signer = signing.generate("sm2")
    assert len(signer.public_key) == 65 and signer.public_key[0] == 4
    again = signing.SM2Signer(signer.secret())
    assert again.key_id == signer.key_id
    signature = signer.sign(b"checkpoint")
    assert again.verify(b"checkpoint", signature)
    assert not signer.verify(b"checkpoint!", signature)


def test_switching_to_sm2_keeps_earlier_checkpoints_verifiable(
    clean_db: str, witness: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tongban.config import get_settings

    append(clean_db, batches=2, per_batch=5)
    old_key = signing.signing_keys().current.key_id
    monkeypatch.setenv("TONGBAN_AUDIT_SIGNATURE_ALGORITHM", "sm2")
    get_settings.cache_clear()
    append(clean_db, batches=1, per_batch=5)
    keys = signing.signing_keys()
    assert keys.current.algorithm == "sm2" and [k.key_id for k in keys.retired] == [old_key]
    with transaction(clean_db) as session:
        rows = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)).all()
        assert [(r.tree_size, r.algorithm) for r in rows] == [
            (5, "ed25519"),
            (10, "ed25519"),
            (15, "sm2"),
        ]
    report = verify(clean_db)
    assert report.ok and report.checked_checkpoints == 6, report.problem
    execute(clean_db, "UPDATE audit_checkpoints SET tree_size = 14 WHERE tree_size = 15")
    assert "size 14 has an invalid signature" in verify(clean_db).problem
