"""Uploaded files are encrypted at rest, still named by the hash of their plaintext."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tongban.cases.storage import LocalStorage, digest, get_storage
from tongban.errors import DomainError
from tongban.kit.ids import make_id_number
from tongban.privacy import crypto
from tongban.privacy.crypto import FILE_MAGIC, Keyring

ID_NUMBER = make_id_number("640425", date(1982, 11, 30), 61)
SCAN = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n"
    b"BT /F1 12 Tf (ID " + ID_NUMBER.encode() + b" 13912345678) Tj ET\n%%EOF\n"
)


@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A key file and file store of the test's own: rotating them leaves other tests alone."""
    from tongban.config import get_settings

    path = tmp_path / "keys.json"
    monkeypatch.setenv("TONGBAN_KEY_FILE", str(path))
    monkeypatch.setenv("TONGBAN_STORAGE_DIR", str(tmp_path / "files"))
    get_settings.cache_clear()
    crypto.reset_keyring()
    yield path
    get_settings.cache_clear()
    crypto.reset_keyring()


@pytest.fixture
def store(tmp_path: Path, key_file: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def _on_disk(store: LocalStorage, sha256: str) -> bytes:
    return store._path(sha256).read_bytes()


def test_the_bytes_on_disk_reveal_nothing_and_the_file_round_trips(store: LocalStorage) -> None:
    sha256 = store.put(SCAN)
    assert sha256 == hashlib.sha256(SCAN).hexdigest()  # content addressing kept
    raw = _on_disk(store, sha256)
    assert raw.startswith(FILE_MAGIC)
    for planted in (ID_NUMBER, ID_NUMBER[:17], "13912345678", "%PDF"):
        assert planted.encode() not in raw
    assert store.get(sha256) == SCAN
    assert store.key_id_of(sha256) == "k1"
    assert list(store.hashes()) == [sha256]


def test_the_same_file_twice_is_stored_once(store: LocalStorage) -> None:
    first = store.put(SCAN)
    sealed = _on_disk(store, first)
    assert store.put(SCAN) == first
    assert _on_disk(store, first) == sealed  # not rewritten
    assert len(list((store.root).rglob("*"))) == 3  # two folders and one file: no temp files


def test_a_tampered_file_fails_with_a_clear_error(store: LocalStorage) -> None:
    sha256 = store.put(SCAN)
    path = store._path(sha256)
    raw = bytearray(path.read_bytes())
    raw[-30] ^= 0x04
    path.write_bytes(bytes(raw))
    with pytest.raises(DomainError) as caught:
        store.get(sha256)
    assert caught.value.code == "decryption_failed"


def test_a_file_swapped_for_another_does_not_open(store: LocalStorage) -> None:
    first, second = store.put(SCAN), store.put(SCAN + b"%second\n")
    store._path(first).write_bytes(_on_disk(store, second))
    with pytest.raises(DomainError) as caught:
        store.get(first)
    assert caught.value.code == "decryption_failed"


def test_a_file_stored_before_encryption_is_read_and_checked(store: LocalStorage) -> None:
    sha256 = digest(SCAN)
    path = store._path(sha256)
    path.parent.mkdir(parents=True)
    path.write_bytes(SCAN)
    assert store.get(sha256) == SCAN and store.key_id_of(sha256) is None
    path.write_bytes(SCAN.replace(b"1391", b"1381"))
    with pytest.raises(DomainError) as caught:
        store.get(sha256)
    assert caught.value.code == "file_corrupted"
    path.write_bytes(SCAN)
    assert store.put(SCAN) == sha256  # uploading it again seals the plain copy
    assert _on_disk(store, sha256).startswith(FILE_MAGIC) and store.get(sha256) == SCAN


def test_reencrypt_moves_a_file_to_the_active_key(store: LocalStorage, key_file: Path) -> None:
    sha256 = store.put(SCAN)
    legacy = digest(b"%PDF-legacy")
    store._write(legacy, b"%PDF-legacy")
    assert store.reencrypt(sha256) is False  # already under the active key
    operator = Keyring.load(key_file)
    operator.add_key("sm4-gcm")
    operator.save(key_file)
    crypto.reset_keyring()
    assert store.reencrypt(sha256) is True and store.reencrypt(legacy) is True
    assert store.key_id_of(sha256) == "k2" and store.key_id_of(legacy) == "k2"
    assert store.get(sha256) == SCAN and store.get(legacy) == b"%PDF-legacy"
    assert store.reencrypt(sha256) is False
    assert sorted(store.hashes()) == sorted([sha256, legacy])


def test_hashes_ignore_stray_files(store: LocalStorage) -> None:
    sha256 = store.put(SCAN)
    (store._path(sha256).parent / ".tmp-abandoned").write_bytes(b"half")
    (store.root / "README").write_text("not a file of ours")
    assert list(store.hashes()) == [sha256]
    assert list(LocalStorage(store.root / "missing").hashes()) == []


def test_uploads_through_the_service_are_encrypted(key_file: Path, session: Session) -> None:
    from support import make_user
    from tongban.cases import service as case_service

    applicant = make_user(session, "applicant")
    upload = case_service.save_upload(
        session, actor=applicant, filename=f"身份证{ID_NUMBER}.pdf", content=SCAN
    )
    storage = get_storage()
    assert isinstance(storage, LocalStorage)
    assert ID_NUMBER.encode() not in _on_disk(storage, upload.sha256)
    assert storage.get(upload.sha256) == SCAN
