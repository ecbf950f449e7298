"""Encryption at rest: authenticated encryption of fields and files, and blind indexes.

One interface, two suites: AES-256-GCM by default, SM4-GCM (国密) when configured.
Keys live in a JSON key file outside the database (``TONGBAN_KEY_FILE``):

    {"suite": "aes-gcm", "active": "k2",
     "keys": {"k1": "<base64>", "k2": "<base64>"},
     "index_key": "<base64>"}

A field value is stored as ``enc:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``; the
column name is the associated data, so a value copied into another column fails to
decrypt. Old keys stay in the file until nothing uses them (`tongban keys rotate`
re-encrypts in batches, `tongban keys retire` drops a key), and a process that meets
a key id it does not know reads the file again — so app servers keep working while
a rotation runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from tongban.config import get_settings
from tongban.errors import DomainError

PREFIX = "enc:"
FILE_MAGIC = b"TBE1"  # encrypted file: magic ‖ key-id length ‖ key id ‖ nonce ‖ ct ‖ tag
NONCE_BYTES = 12
TAG_BYTES = 16
SUITES = ("aes-gcm", "sm4-gcm")
_KEY_BYTES = {"aes-gcm": 32, "sm4-gcm": 16}


class CryptoError(DomainError):
    def __init__(self, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(code, message_zh, message_en, status=500)


def _seal(suite: str, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    if suite == "aes-gcm":
        return AESGCM(key).encrypt(nonce, plaintext, aad)
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _open(suite: str, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    try:
        if suite == "aes-gcm":
            return AESGCM(key).decrypt(nonce, sealed, aad)
        body, tag = sealed[:-TAG_BYTES], sealed[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body) + decryptor.finalize()
    except (InvalidTag, ValueError) as exc:
        raise CryptoError(
            "decryption_failed",
            "加密数据无法解密：密钥不符或数据被篡改。",
            "Encrypted data could not be decrypted: wrong key or tampered data.",
        ) from exc


@dataclass
class Keyring:
    suite: str
    active: str
    keys: dict[str, bytes]
    index_key: bytes
    path: Path | None = None
    _mtime: float = field(default=0.0, repr=False)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def generate(cls, suite: str = "aes-gcm", key_id: str = "k1") -> Keyring:
        if suite not in SUITES:
            raise ValueError(f"unknown crypto suite {suite!r}; use one of {SUITES}")
        return cls(
            suite=suite,
            active=key_id,
            keys={key_id: os.urandom(_KEY_BYTES[suite])},
            index_key=os.urandom(32),
        )

    @classmethod
    def from_json(cls, text: str, path: Path | None = None) -> Keyring:
        data = json.loads(text)
        suite = data.get("suite", "aes-gcm")
        keys = {kid: base64.b64decode(value) for kid, value in data["keys"].items()}
        if suite not in SUITES or data["active"] not in keys:
            raise ValueError("key file: unknown suite or active key missing")
        if any(len(key) != _KEY_BYTES[suite] for key in keys.values()):
            raise ValueError(f"key file: {suite} keys must be {_KEY_BYTES[suite]} bytes")
        return cls(suite, data["active"], keys, base64.b64decode(data["index_key"]), path)

    def to_json(self) -> str:
        return json.dumps(
            {
                "suite": self.suite,
                "active": self.active,
                "keys": {kid: base64.b64encode(k).decode() for kid, k in self.keys.items()},
                "index_key": base64.b64encode(self.index_key).decode(),
            },
            indent=2,
        )

    def save(self, path: Path) -> None:
        """Write atomically with owner-only permissions."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        self.path = path

    def new_key_id(self) -> str:
        numbers = [int(kid[1:]) for kid in self.keys if kid[1:].isdigit()]
        return f"k{max(numbers, default=0) + 1}"

    # -- fields ---------------------------------------------------------------------
    def encrypt(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = _seal(
            self.suite, self.keys[self.active], nonce, plaintext.encode(), context.encode()
        )
        return f"{PREFIX}{self.active}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        if not token.startswith(PREFIX):
            return token  # written before encryption was switched on; rotation encrypts it
        key_id, _, body = token[len(PREFIX) :].partition(":")
        raw = base64.b64decode(body)
        sealed = _open(
            self.suite, self._key(key_id), raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()
        )
        return sealed.decode()

    def key_id_of(self, token: str) -> str | None:
        if not token.startswith(PREFIX):
            return None
        return token[len(PREFIX) :].partition(":")[0]

    # -- files ----------------------------------------------------------------------
    def encrypt_bytes(self, content: bytes, *, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        kid = self.active.encode()
        sealed = _seal(self.suite, self.keys[self.active], nonce, content, context.encode())
        return FILE_MAGIC + bytes([len(kid)]) + kid + nonce + sealed

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        if not blob.startswith(FILE_MAGIC):
            return blob  # stored before encryption; rotation encrypts it
        length = blob[len(FILE_MAGIC)]
        start = len(FILE_MAGIC) + 1
        key_id = blob[start : start + length].decode()
        rest = blob[start + length :]
        return _open(
            self.suite, self._key(key_id), rest[:NONCE_BYTES], rest[NONCE_BYTES:], context.encode()
        )

    def file_key_id(self, blob: bytes) -> str | None:
        if not blob.startswith(FILE_MAGIC):
            return None
        length = blob[len(FILE_MAGIC)]
        start = len(FILE_MAGIC) + 1
        return blob[start : start + length].decode()

    # -- blind index ----------------------------------------------------------------
    def blind_index(self, value: str, *, domain: str) -> str:
        """Keyed hash for equality search; HMAC-SM3 under 国密, HMAC-SHA-256 otherwise."""
        message = f"{domain}\x00{value}".encode()
        if self.suite == "sm4-gcm":  # OpenSSL's hashlib may lack SM3; cryptography has it
            mac = crypto_hmac.HMAC(self.index_key, hashes.SM3())
            mac.update(message)
            return mac.finalize().hex()[:32]
        return hmac.new(self.index_key, message, "sha256").hexdigest()[:32]

    def derive(self, label: bytes) -> bytes:
        """A purpose-bound secret derived from the index key (stable across key rotation)."""
        return hmac.new(self.index_key, label, "sha256").digest()

    def _key(self, key_id: str) -> bytes:
        if key_id not in self.keys:
            self._reload()
        if key_id not in self.keys:
            raise CryptoError(
                "unknown_key",
                f"密钥 {key_id} 不在密钥文件中。",
                f"Key {key_id} is not in the key file.",
            )
        return self.keys[key_id]

    def _reload(self) -> None:
        """Another process rotated the keys: take the file's newer contents."""
        if self.path is None or not self.path.exists():
            return
        fresh = Keyring.from_json(self.path.read_text(), self.path)
        self.keys.update(fresh.keys)
        self.active = fresh.active


_lock = threading.Lock()
_keyring: Keyring | None = None


def keyring() -> Keyring:
    """The process keyring, read from the key file (created on first use)."""
    global _keyring
    with _lock:
        if _keyring is None:
            settings = get_settings()
            path = Path(settings.key_file)
            if path.exists():
                _keyring = Keyring.from_json(path.read_text(), path)
            else:
                _keyring = Keyring.generate(settings.crypto_suite)
                _keyring.save(path)
        return _keyring


def reset_keyring() -> None:
    """Forget the cached keyring (tests, and after `tongban keys` changed the file)."""
    global _keyring
    with _lock:
        _keyring = None


def blind_index(value: str, *, domain: str) -> str:
    return keyring().blind_index(value, domain=domain)


def person_ref(identity: str) -> str:
    """The blind index of a person's (or organisation's) identity number.

    Cases, users and the audit log all use it, so "whose data was read" can be
    answered without storing the number itself.
    """
    return blind_index(identity.strip().upper(), domain="person")


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; the column name is the associated data."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(value, context=self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().decrypt(value, context=self.context)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON document stored encrypted as one value (form data: many personal fields)."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return keyring().encrypt(text, context=self.context)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(keyring().decrypt(value, context=self.context))
