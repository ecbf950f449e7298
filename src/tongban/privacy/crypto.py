"""Encryption at rest: authenticated encryption of fields and files, and blind indexes.

One interface, two suites: AES-256-GCM by default, SM4-GCM (国密) when configured.
Keys live in a JSON key file outside the database (``TONGBAN_KEY_FILE``):

    {"suite": "aes-gcm", "active": "k2",
     "keys": {"k1": "<base64>", "k2": "<base64>"},
     "suites": {"k1": "aes-gcm", "k2": "aes-gcm"},
     "index_key": "<base64>", "index_algorithm": "hmac-sha256"}

A field value is stored as ``enc:<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``; the
column name is the associated data, so a value copied into another column fails to
decrypt. Old keys stay in the file until nothing uses them (`tongban keys rotate`
re-encrypts in batches, `tongban keys retire` drops a key). A running process reads
the file again when it meets a key id it does not know, and looks every
RELOAD_SECONDS whether the file was replaced — so app servers keep working, and
switch to the new key, while a rotation runs. docs/encryption.md has the details.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import tempfile
import threading
import time
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
from tongban.kit.text import normalize_width

PREFIX = "enc:"
FILE_MAGIC = b"TBE1"  # encrypted file: magic ‖ key-id length ‖ key id ‖ nonce ‖ ct ‖ tag
NONCE_BYTES = 12
TAG_BYTES = 16
SUITES = ("aes-gcm", "sm4-gcm")
_KEY_BYTES = {"aes-gcm": 32, "sm4-gcm": 16}
# How often a running process looks whether the key file was rotated (seconds).
RELOAD_SECONDS = 2.0


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


def _index_algorithm_for(suite: str) -> str:
    return "hmac-sm3" if suite == "sm4-gcm" else "hmac-sha256"


def _malformed() -> CryptoError:
    return CryptoError(
        "decryption_failed",
        "加密数据格式错误：数据被截断或篡改。",
        "Encrypted data is malformed: truncated or tampered.",
    )


@dataclass
class Keyring:
    """The data keys (one active, older ones kept for reading) and the blind-index key.

    Each key remembers its suite, so a rotation may move from AES-GCM to SM4-GCM.
    The blind index algorithm is fixed when the key file is created: indexes and
    the audit log's person references must stay comparable across rotations.
    """

    suite: str  # the active key's suite: new values are sealed with it
    active: str
    keys: dict[str, bytes]
    index_key: bytes
    path: Path | None = None
    key_suites: dict[str, str] = field(default_factory=dict)
    index_algorithm: str = ""
    _stamp: tuple[int, int] = field(default=(0, 0), repr=False)
    _checked_at: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.key_suites = {kid: self.key_suites.get(kid, self.suite) for kid in self.keys}
        self.index_algorithm = self.index_algorithm or _index_algorithm_for(self.suite)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def generate(cls, suite: str = "aes-gcm", key_id: str = "k1") -> Keyring:
        _check_suite(suite)
        return cls(
            suite=suite,
            active=key_id,
            keys={key_id: os.urandom(_KEY_BYTES[suite])},
            index_key=os.urandom(32),
        )

    @classmethod
    def from_json(cls, text: str, path: Path | None = None) -> Keyring:
        data = json.loads(text)
        default_suite = data.get("suite", "aes-gcm")
        keys = {kid: base64.b64decode(value) for kid, value in data["keys"].items()}
        suites = {kid: data.get("suites", {}).get(kid, default_suite) for kid in keys}
        if data["active"] not in keys or any(s not in SUITES for s in suites.values()):
            raise ValueError("key file: unknown suite or active key missing")
        for kid, key in keys.items():
            if len(key) != _KEY_BYTES[suites[kid]]:
                raise ValueError(
                    f"key file: {suites[kid]} keys must be {_KEY_BYTES[suites[kid]]} bytes"
                )
        ring = cls(
            suite=suites[data["active"]],
            active=data["active"],
            keys=keys,
            index_key=base64.b64decode(data["index_key"]),
            path=path,
            key_suites=suites,
            index_algorithm=data.get("index_algorithm", _index_algorithm_for(default_suite)),
        )
        if ring.index_algorithm not in ("hmac-sha256", "hmac-sm3"):
            raise ValueError(f"key file: unknown index algorithm {ring.index_algorithm!r}")
        return ring

    @classmethod
    def load(cls, path: Path) -> Keyring:
        ring = cls.from_json(path.read_text(), path)
        ring._stamp = _stamp(path)
        ring._checked_at = time.monotonic()
        return ring

    def to_json(self) -> str:
        return json.dumps(
            {
                "suite": self.suite,
                "active": self.active,
                "keys": {kid: base64.b64encode(k).decode() for kid, k in self.keys.items()},
                "suites": dict(self.key_suites),
                "index_key": base64.b64encode(self.index_key).decode(),
                "index_algorithm": self.index_algorithm,
            },
            indent=2,
        )

    def save(self, path: Path) -> None:
        """Write atomically (temporary file, then rename) with owner-only permissions."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(self.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.path = path
        self._stamp = _stamp(path)

    def new_key_id(self) -> str:
        numbers = [int(kid[1:]) for kid in self.keys if kid[1:].isdigit()]
        return f"k{max(numbers, default=0) + 1}"

    def add_key(self, suite: str | None = None) -> str:
        """A fresh data key, made active; older keys stay for reading."""
        suite = suite or self.suite
        _check_suite(suite)
        kid = self.new_key_id()
        self.keys = {**self.keys, kid: os.urandom(_KEY_BYTES[suite])}
        self.key_suites = {**self.key_suites, kid: suite}
        self.active, self.suite = kid, suite
        return kid

    def remove_key(self, key_id: str) -> None:
        if key_id == self.active:
            raise ValueError("the active key cannot be removed")
        self.keys = {kid: key for kid, key in self.keys.items() if kid != key_id}
        self.key_suites = {kid: s for kid, s in self.key_suites.items() if kid != key_id}

    # -- fields ---------------------------------------------------------------------
    def encrypt(self, plaintext: str, *, context: str) -> str:
        kid, suite, key = self._sealing_key()
        nonce = os.urandom(NONCE_BYTES)
        sealed = _seal(suite, key, nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}{kid}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        if not token.startswith(PREFIX):
            return token  # written before encryption was switched on; rotation encrypts it
        key_id, _, body = token[len(PREFIX) :].partition(":")
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise _malformed() from exc
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise _malformed()
        suite, key = self._opening_key(key_id)
        plain = _open(suite, key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode())
        return plain.decode()

    def key_id_of(self, token: str) -> str | None:
        if not token.startswith(PREFIX):
            return None
        return token[len(PREFIX) :].partition(":")[0]

    # -- files ----------------------------------------------------------------------
    def encrypt_bytes(self, content: bytes, *, context: str) -> bytes:
        kid, suite, key = self._sealing_key()
        nonce = os.urandom(NONCE_BYTES)
        sealed = _seal(suite, key, nonce, content, context.encode())
        encoded = kid.encode()
        return FILE_MAGIC + bytes([len(encoded)]) + encoded + nonce + sealed

    def decrypt_bytes(self, blob: bytes, *, context: str) -> bytes:
        if not blob.startswith(FILE_MAGIC):
            return blob  # stored before encryption; rotation encrypts it
        key_id = self.file_key_id(blob)
        if key_id is None:
            raise _malformed()
        rest = blob[len(FILE_MAGIC) + 1 + len(key_id.encode()) :]
        if len(rest) < NONCE_BYTES + TAG_BYTES:
            raise _malformed()
        suite, key = self._opening_key(key_id)
        return _open(suite, key, rest[:NONCE_BYTES], rest[NONCE_BYTES:], context.encode())

    def file_key_id(self, blob: bytes) -> str | None:
        """The key id in an encrypted file's header (the first bytes are enough)."""
        if not blob.startswith(FILE_MAGIC) or len(blob) <= len(FILE_MAGIC):
            return None
        length = blob[len(FILE_MAGIC)]
        start = len(FILE_MAGIC) + 1
        if len(blob) < start + length:
            return None
        return blob[start : start + length].decode(errors="replace")

    # -- blind index ----------------------------------------------------------------
    def blind_index(self, value: str, *, domain: str) -> str:
        """Keyed hash for equality search: HMAC-SM3 for 国密 key files, HMAC-SHA-256 otherwise."""
        message = f"{domain}\x00{value}".encode()
        if self.index_algorithm == "hmac-sm3":  # OpenSSL's hashlib may lack SM3
            mac = crypto_hmac.HMAC(self.index_key, hashes.SM3())
            mac.update(message)
            return mac.finalize().hex()[:32]
        return hmac.new(self.index_key, message, "sha256").hexdigest()[:32]

    def derive(self, label: bytes) -> bytes:
        """A purpose-bound secret derived from the index key (stable across key rotation)."""
        return hmac.new(self.index_key, label, "sha256").digest()

    # -- keys -----------------------------------------------------------------------
    def _sealing_key(self) -> tuple[str, str, bytes]:
        self.refresh_if_due()
        kid = self.active
        return kid, self.key_suites[kid], self.keys[kid]

    def _opening_key(self, key_id: str) -> tuple[str, bytes]:
        if key_id not in self.keys:
            self.reload()
        if key_id not in self.keys:
            raise CryptoError(
                "unknown_key",
                f"密钥 {key_id} 不在密钥文件中。",
                f"Key {key_id} is not in the key file.",
            )
        return self.key_suites[key_id], self.keys[key_id]

    def refresh_if_due(self) -> None:
        """Take a rotated key file's new active key within RELOAD_SECONDS.

        App servers keep running while `tongban keys rotate` works: they must stop
        sealing with the old key soon, so that the rotation's sweep finishes. A
        stat() at most once per interval costs nothing measurable.
        """
        if self.path is None or time.monotonic() - self._checked_at < RELOAD_SECONDS:
            return
        self._checked_at = time.monotonic()
        try:
            stamp = _stamp(self.path)
        except FileNotFoundError:
            return
        if stamp != self._stamp:
            self.reload()

    def reload(self) -> None:
        """Another process changed the key file: take its contents (keep keys we know)."""
        if self.path is None or not self.path.exists():
            return
        fresh = Keyring.load(self.path)
        if fresh.index_key != self.index_key:
            raise CryptoError(
                "index_key_changed",
                "密钥文件的索引密钥已变化，盲索引将失效；请恢复原密钥文件。",
                "The key file's index key changed; blind indexes would break. Restore the file.",
            )
        # new dicts, assigned whole: other threads see either the old or the new set
        self.keys = {**self.keys, **fresh.keys}
        self.key_suites = {**self.key_suites, **fresh.key_suites}
        self.active, self.suite = fresh.active, fresh.suite
        self._stamp = fresh._stamp
        self._checked_at = time.monotonic()


def _check_suite(suite: str) -> None:
    if suite not in SUITES:
        raise ValueError(f"unknown crypto suite {suite!r}; use one of {SUITES}")


def _stamp(path: Path) -> tuple[int, int]:
    """What changes when the key file is replaced (atomic rename gives a new inode)."""
    info = path.stat()
    return info.st_ino, info.st_mtime_ns


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
                _keyring = Keyring.load(path)
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
    return blind_index(normalize_width(identity).strip().upper(), domain="person")


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
