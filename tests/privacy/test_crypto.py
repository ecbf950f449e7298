"""Field and file encryption, blind indexes and the key file: no database needed."""

from __future__ import annotations

import base64
import json
import os
from datetime import date
from pathlib import Path

import pytest

from tongban.kit.ids import make_id_number
from tongban.privacy import crypto
from tongban.privacy.crypto import PREFIX, SUITES, CryptoError, Keyring

ID_NUMBER = make_id_number("640425", date(1979, 3, 8), 233)


@pytest.fixture(params=SUITES)
def ring(request: pytest.FixtureRequest) -> Keyring:
    return Keyring.generate(request.param)


def _flip(token: str, position: int) -> str:
    """The token with one ciphertext bit changed."""
    head, _, body = token.rpartition(":")
    raw = bytearray(base64.b64decode(body))
    raw[position] ^= 0x01
    return f"{head}:{base64.b64encode(bytes(raw)).decode()}"


def test_round_trip_with_fresh_nonces(ring: Keyring) -> None:
    first = ring.encrypt(ID_NUMBER, context="cases.applicant_id_number")
    second = ring.encrypt(ID_NUMBER, context="cases.applicant_id_number")
    assert first.startswith(f"{PREFIX}k1:") and first != second
    assert ID_NUMBER not in first and ID_NUMBER[:17] not in first
    assert ring.decrypt(first, context="cases.applicant_id_number") == ID_NUMBER
    assert ring.decrypt(ring.encrypt("", context="c"), context="c") == ""
    assert ring.decrypt(ring.encrypt("张三 ✓", context="c"), context="c") == "张三 ✓"


def test_a_value_moved_to_another_column_does_not_open(ring: Keyring) -> None:
    token = ring.encrypt(ID_NUMBER, context="cases.applicant_id_number")
    with pytest.raises(CryptoError) as caught:
        ring.decrypt(token, context="users.id_number")
    assert caught.value.code == "decryption_failed"


@pytest.mark.parametrize("position", [0, 13, -1])  # nonce, ciphertext, tag
def test_a_tampered_token_does_not_open(ring: Keyring, position: int) -> None:
    token = ring.encrypt(ID_NUMBER, context="c")
    with pytest.raises(CryptoError) as caught:
        ring.decrypt(_flip(token, position), context="c")
    assert caught.value.code == "decryption_failed"


@pytest.mark.parametrize("body", ["!!not base64!!", "AAAA", ""])
def test_a_malformed_token_fails_cleanly(ring: Keyring, body: str) -> None:
    with pytest.raises(CryptoError) as caught:
        ring.decrypt(f"{PREFIX}k1:{body}", context="c")
    assert caught.value.code == "decryption_failed"


def test_a_token_from_another_key_file_does_not_open(ring: Keyring) -> None:
    other = Keyring.generate(ring.suite)
    with pytest.raises(CryptoError) as caught:
        ring.decrypt(other.encrypt(ID_NUMBER, context="c"), context="c")
    assert caught.value.code == "decryption_failed"


def test_legacy_plain_values_and_files_pass_through(ring: Keyring) -> None:
    assert ring.decrypt("13912345678", context="users.phone") == "13912345678"
    assert ring.key_id_of("13912345678") is None
    assert ring.decrypt_bytes(b"%PDF-1.4 plain", context="file:x") == b"%PDF-1.4 plain"
    assert ring.file_key_id(b"%PDF-1.4 plain") is None


def test_files_round_trip_and_are_bound_to_their_name(ring: Keyring) -> None:
    content = b"%PDF-1.4\n" + ID_NUMBER.encode() + b"\n%%EOF\n"
    blob = ring.encrypt_bytes(content, context="file:aa")
    assert ID_NUMBER.encode() not in blob and ring.file_key_id(blob) == "k1"
    assert ring.decrypt_bytes(blob, context="file:aa") == content
    with pytest.raises(CryptoError):
        ring.decrypt_bytes(blob, context="file:bb")
    tampered = bytearray(blob)
    tampered[-20] ^= 0x80
    with pytest.raises(CryptoError) as caught:
        ring.decrypt_bytes(bytes(tampered), context="file:aa")
    assert caught.value.code == "decryption_failed"
    with pytest.raises(CryptoError):
        ring.decrypt_bytes(blob[:20], context="file:aa")  # truncated


def test_suites_are_really_different_ciphers() -> None:
    aes, sm4 = Keyring.generate("aes-gcm"), Keyring.generate("sm4-gcm")
    assert len(aes.keys["k1"]) == 32 and len(sm4.keys["k1"]) == 16
    # an SM4 key file cannot open AES ciphertext even under the same key id
    sm4_token = sm4.encrypt(ID_NUMBER, context="c")
    with pytest.raises(CryptoError):
        aes.decrypt(sm4_token, context="c")


def test_sm4_gcm_matches_an_independent_implementation() -> None:
    """Our SM4-GCM output opens with cryptography's own GCM decryptor and the SM4 key."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    sm4 = Keyring.generate("sm4-gcm")
    raw = base64.b64decode(sm4.encrypt(ID_NUMBER, context="ctx").rpartition(":")[2])
    nonce, body, tag = raw[:12], raw[12:-16], raw[-16:]
    decryptor = Cipher(algorithms.SM4(sm4.keys["k1"]), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(b"ctx")
    assert decryptor.update(body) + decryptor.finalize() == ID_NUMBER.encode()


def test_blind_index_is_deterministic_keyed_and_per_domain(ring: Keyring) -> None:
    first = ring.blind_index(ID_NUMBER, domain="person")
    assert first == ring.blind_index(ID_NUMBER, domain="person")
    assert len(first) == 32 and ID_NUMBER not in first
    assert first != ring.blind_index(ID_NUMBER, domain="phone")
    assert first != ring.blind_index(ID_NUMBER[:-1] + "0", domain="person")
    assert first != Keyring.generate(ring.suite).blind_index(ID_NUMBER, domain="person")
    expected = "hmac-sm3" if ring.suite == "sm4-gcm" else "hmac-sha256"
    assert ring.index_algorithm == expected


def test_person_ref_normalizes_case_and_spaces() -> None:
    with_x = make_id_number("640425", date(1990, 1, 1), 2)
    with_x = with_x[:-1] + "X"  # the blind index does not check digits, only normalizes
    assert crypto.person_ref(f" {with_x.lower()} ") == crypto.person_ref(with_x)


def test_key_file_round_trip_keeps_per_key_suites(tmp_path: Path) -> None:
    ring = Keyring.generate("aes-gcm")
    token = ring.encrypt(ID_NUMBER, context="c")
    ring.add_key("sm4-gcm")
    assert (ring.active, ring.suite) == ("k2", "sm4-gcm")
    path = tmp_path / "keys.json"
    ring.save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    loaded = Keyring.load(path)
    assert loaded.key_suites == {"k1": "aes-gcm", "k2": "sm4-gcm"}
    assert loaded.decrypt(token, context="c") == ID_NUMBER
    assert loaded.key_id_of(loaded.encrypt("x", context="c")) == "k2"
    # the blind index stays HMAC-SHA-256: indexes made before the switch still match
    assert loaded.index_algorithm == "hmac-sha256"
    assert loaded.blind_index("a", domain="d") == ring.blind_index("a", domain="d")


def test_an_old_key_file_without_suites_still_loads(tmp_path: Path) -> None:
    ring = Keyring.generate("sm4-gcm")
    data = json.loads(ring.to_json())
    del data["suites"], data["index_algorithm"]
    loaded = Keyring.from_json(json.dumps(data))
    assert loaded.key_suites == {"k1": "sm4-gcm"} and loaded.index_algorithm == "hmac-sm3"


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(active="k9"),
        lambda d: d.update(suite="des"),
        lambda d: d["keys"].update(k1=base64.b64encode(b"short").decode()),
        lambda d: d.update(index_algorithm="md5"),
    ],
)
def test_a_broken_key_file_is_refused(change: object) -> None:
    data = json.loads(Keyring.generate("aes-gcm").to_json())
    del data["suites"]
    change(data)  # type: ignore[operator]
    with pytest.raises(ValueError):
        Keyring.from_json(json.dumps(data))


def test_the_active_key_cannot_be_removed() -> None:
    ring = Keyring.generate()
    ring.add_key()
    with pytest.raises(ValueError):
        ring.remove_key("k2")
    ring.remove_key("k1")
    assert list(ring.keys) == ["k2"]


def test_a_process_meeting_an_unknown_key_reads_the_file_again(tmp_path: Path) -> None:
    """Two app servers: one rotates the file, the other opens the new values."""
    path = tmp_path / "keys.json"
    Keyring.generate("aes-gcm").save(path)
    server_a, server_b = Keyring.load(path), Keyring.load(path)
    server_a.add_key()
    server_a.save(path)
    token = server_a.encrypt(ID_NUMBER, context="c")
    assert server_a.key_id_of(token) == "k2" and "k2" not in server_b.keys
    assert server_b.decrypt(token, context="c") == ID_NUMBER
    assert "k2" in server_b.keys
    missing = server_a.encrypt(ID_NUMBER, context="c").replace(":k2:", ":k7:", 1)
    with pytest.raises(CryptoError) as caught:
        server_b.decrypt(missing, context="c")
    assert caught.value.code == "unknown_key"


def test_a_running_process_switches_to_the_rotated_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crypto, "RELOAD_SECONDS", 0.0)
    path = tmp_path / "keys.json"
    Keyring.generate("aes-gcm").save(path)
    server = Keyring.load(path)
    operator = Keyring.load(path)
    operator.add_key()
    operator.save(path)
    assert server.key_id_of(server.encrypt("x", context="c")) == "k2"
    assert server.file_key_id(server.encrypt_bytes(b"x", context="f")) == "k2"


def test_a_replaced_index_key_is_refused_not_silently_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crypto, "RELOAD_SECONDS", 0.0)
    path = tmp_path / "keys.json"
    Keyring.generate().save(path)
    server = Keyring.load(path)
    Keyring.generate().save(path)  # someone put a different key file in place
    with pytest.raises(CryptoError) as caught:
        server.encrypt("x", context="c")
    assert caught.value.code == "index_key_changed"


def test_column_types_seal_on_write_and_open_on_read() -> None:
    text_type = crypto.EncryptedText("users.phone")
    json_type = crypto.EncryptedJSON("cases.form_data")
    stored = text_type.process_bind_param("13912345678", None)  # type: ignore[arg-type]
    assert stored is not None and stored.startswith(PREFIX) and "1391234" not in stored
    assert text_type.process_result_value(stored, None) == "13912345678"  # type: ignore[arg-type]
    form = {"身份证号": ID_NUMBER, "n": 1}
    sealed = json_type.process_bind_param(form, None)  # type: ignore[arg-type]
    assert sealed is not None and ID_NUMBER not in sealed
    assert json_type.process_result_value(sealed, None) == form  # type: ignore[arg-type]
    assert json_type.process_result_value('{"a": 1}', None) == {"a": 1}  # type: ignore[arg-type]
