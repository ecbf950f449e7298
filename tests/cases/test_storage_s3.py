"""The S3 backend: the same encryption, listing and re-encryption, over HTTP.

The server is moto's S3 server on loopback — an implementation of the S3 protocol,
not MinIO: boto3 talks to it over real HTTP, nothing in-process is patched. No
S3-compatible server can be installed on the test machines from Debian or PyPI.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from server_support import free_port
from tongban.cases.storage import S3Storage
from tongban.config import Settings, get_settings
from tongban.errors import DomainError
from tongban.kit.ids import make_id_number
from tongban.privacy import crypto
from tongban.privacy.crypto import FILE_MAGIC, Keyring

ID_NUMBER = make_id_number("640425", date(1982, 11, 30), 61)
SCAN = b"%PDF-1.4\n(" + ID_NUMBER.encode() + b" 13912345678)\n%%EOF\n"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Storage]:
    monkeypatch.setenv("TONGBAN_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    get_settings.cache_clear()
    crypto.reset_keyring()
    settings = Settings(
        storage="s3",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"tongban-{tmp_path.name.lower().replace('_', '-')}"[:63],
        s3_access_key="test",
        s3_secret_key="test",
    )
    store = S3Storage(settings)
    store.client.create_bucket(Bucket=settings.s3_bucket)
    yield store
    get_settings.cache_clear()
    crypto.reset_keyring()


def _object(store: S3Storage, sha256: str) -> bytes:
    response = store.client.get_object(Bucket=store.bucket, Key=f"materials/{sha256}")
    body: bytes = response["Body"].read()
    return body


def test_objects_are_sealed_listed_and_reencrypted(s3: S3Storage, tmp_path: Path) -> None:
    store = s3
    sha256 = store.put(SCAN)
    raw = _object(store, sha256)
    assert (
        raw.startswith(FILE_MAGIC) and ID_NUMBER.encode() not in raw and b"13912345678" not in raw
    )
    assert store.get(sha256) == SCAN
    assert store.key_id_of(sha256) == "k1"
    assert list(store.hashes()) == [sha256]
    assert store.put(SCAN) == sha256 and _object(store, sha256) == raw

    key_file = tmp_path / "keys.json"
    ring = Keyring.load(key_file)
    ring.add_key("sm4-gcm")
    ring.save(key_file)
    crypto.reset_keyring()
    assert store.reencrypt(sha256) is True and store.reencrypt(sha256) is False
    assert store.key_id_of(sha256) == "k2" and store.get(sha256) == SCAN


def test_a_tampered_object_fails_clearly(s3: S3Storage) -> None:
    store = s3
    sha256 = store.put(SCAN)
    raw = bytearray(_object(store, sha256))
    raw[-1] ^= 0x01
    store.client.put_object(Bucket=store.bucket, Key=f"materials/{sha256}", Body=bytes(raw))
    with pytest.raises(DomainError) as caught:
        store.get(sha256)
    assert caught.value.code == "decryption_failed"
