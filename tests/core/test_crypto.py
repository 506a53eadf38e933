"""Field encryption (AES-256-GCM and SM4-GCM), organisation keys, blind indexes, digests and the
master key."""

from __future__ import annotations

import base64
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from zhengtong.core.crypto import (
    ALG_AES_256_GCM,
    ALG_SM4_GCM,
    CryptoError,
    FieldCipher,
    Keyring,
    load_master_key,
    self_test,
)
from zhengtong.core.keystore import FileKeyStore, KeyStore, MemoryKeyStore

MASTER = bytes(range(32))
STORE = MemoryKeyStore()  # where a test needs no store of its own (platform keys, hashes)


@pytest.fixture
def store() -> KeyStore:
    return MemoryKeyStore()


def flip_bit(token: bytes, index: int) -> bytes:
    return token[:index] + bytes([token[index] ^ 1]) + token[index + 1 :]


def test_self_test_passes() -> None:
    self_test()


@pytest.mark.parametrize(("national", "algorithm"), [(False, ALG_AES_256_GCM), (True, ALG_SM4_GCM)])
def test_round_trip_names_its_algorithm(national: bool, algorithm: int) -> None:
    cipher = FieldCipher(os.urandom(32), national)

    token = cipher.encrypt_text("13800138000", aad=b"accounts.mobile")

    assert token[0] == algorithm
    assert b"13800138000" not in token
    assert cipher.decrypt_text(token, aad=b"accounts.mobile") == "13800138000"


@pytest.mark.parametrize("national", [False, True])
def test_the_same_value_encrypts_differently_each_time(national: bool) -> None:
    cipher = FieldCipher(os.urandom(32), national)

    assert cipher.encrypt(b"same") != cipher.encrypt(b"same")


@pytest.mark.parametrize("national", [False, True])
@pytest.mark.parametrize("position", [0, 1, 13, -1], ids=["algorithm", "nonce", "body", "tag"])
def test_tampered_ciphertext_is_refused(national: bool, position: int) -> None:
    cipher = FieldCipher(os.urandom(32), national)
    token = cipher.encrypt(b"secret value")

    with pytest.raises(CryptoError):
        cipher.decrypt(flip_bit(token, position % len(token)))


@pytest.mark.parametrize("national", [False, True])
def test_wrong_aad_is_refused(national: bool) -> None:
    cipher = FieldCipher(os.urandom(32), national)
    token = cipher.encrypt(b"value", aad=b"account:1")

    with pytest.raises(CryptoError):
        cipher.decrypt(token, aad=b"account:2")


def test_short_or_unknown_tokens_are_refused() -> None:
    cipher = FieldCipher(os.urandom(32), national=False)

    with pytest.raises(CryptoError, match="too short"):
        cipher.decrypt(b"\x01" + b"\x00" * 10)
    with pytest.raises(CryptoError, match="unknown algorithm"):
        cipher.decrypt(b"\x09" + cipher.encrypt(b"value")[1:])


def test_a_different_key_cannot_decrypt() -> None:
    token = FieldCipher(os.urandom(32), national=False).encrypt(b"value")

    with pytest.raises(CryptoError):
        FieldCipher(os.urandom(32), national=False).decrypt(token)


def test_field_keys_must_be_256_bits() -> None:
    with pytest.raises(ValueError):
        FieldCipher(os.urandom(16), national=False)


def test_values_stay_readable_when_national_crypto_is_switched_on_or_off() -> None:
    before = Keyring(MASTER, key_store=STORE, national=False)
    after = Keyring(MASTER, key_store=STORE, national=True)

    aes_token = before.platform.encrypt_text("张三", aad=b"name")
    sm4_token = after.platform.encrypt_text("李四", aad=b"name")

    assert aes_token[0] == ALG_AES_256_GCM and sm4_token[0] == ALG_SM4_GCM
    assert after.platform.decrypt_text(aes_token, aad=b"name") == "张三"
    assert before.platform.decrypt_text(sm4_token, aad=b"name") == "李四"


@pytest.mark.parametrize("national", [False, True])
def test_org_keys_are_wrapped_and_unwrap_in_another_process(national: bool, store: KeyStore) -> None:
    keyring = Keyring(MASTER, key_store=store, national=national)
    wrapped = keyring.new_org_key("org-a")

    token = keyring.org_cipher("org-a", wrapped).encrypt_text("会议纪要")
    restarted = Keyring(MASTER, key_store=store, national=national)

    assert restarted.org_cipher("org-a", wrapped).decrypt_text(token) == "会议纪要"


def test_each_org_has_its_own_key(store: KeyStore) -> None:
    keyring = Keyring(MASTER, key_store=store)
    cipher_a = keyring.org_cipher("org-a", keyring.new_org_key("org-a"))
    cipher_b = keyring.org_cipher("org-b", keyring.new_org_key("org-b"))

    with pytest.raises(CryptoError):
        cipher_b.decrypt(cipher_a.encrypt(b"org a's data"))


def test_a_wrapped_key_only_opens_for_its_own_org(store: KeyStore) -> None:
    keyring = Keyring(MASTER, key_store=store)
    wrapped_a, wrapped_b = keyring.new_org_key("org-a"), keyring.new_org_key("org-b")
    keyring.org_cipher("org-a", wrapped_a)  # cached now

    with pytest.raises(CryptoError):
        keyring.org_cipher("org-a", wrapped_b)
    with pytest.raises(CryptoError):
        Keyring(MASTER, key_store=store).org_cipher("org-a", wrapped_b)


def test_a_destroyed_org_key_opens_nothing(store: KeyStore) -> None:
    keyring = Keyring(MASTER, key_store=store)
    wrapped = keyring.new_org_key("org-a")
    keyring.org_cipher("org-a", wrapped)  # cached before the key is destroyed

    with pytest.raises(CryptoError, match="destroyed"):
        keyring.org_cipher("org-a", None)


def test_another_master_key_cannot_unwrap_org_keys(store: KeyStore) -> None:
    wrapped = Keyring(MASTER, key_store=store).new_org_key("org-a")

    with pytest.raises(CryptoError):
        Keyring(os.urandom(32), key_store=store).org_cipher("org-a", wrapped)


def test_destroying_the_secret_shreds_every_copy_of_the_wrapped_key(store: KeyStore) -> None:
    keyring = Keyring(MASTER, key_store=store)
    wrapped = keyring.new_org_key("org-a")
    token = keyring.org_cipher("org-a", wrapped).encrypt_text("会议纪要")
    backup_of_the_row = bytes(wrapped)

    keyring.destroy_org_key("org-a")

    # The master key and the row as a backup holds it are not enough any more, in any process.
    for ring in (keyring, Keyring(MASTER, key_store=store)):
        with pytest.raises(CryptoError, match="destroyed or is missing"):
            ring.org_cipher("org-a", backup_of_the_row)
    assert keyring.unwrap_master_only("org-a", backup_of_the_row) is None
    assert token  # sealed with a key nobody holds


def test_a_row_wrapped_by_the_master_key_alone_is_recognised_for_re_wrapping(store: KeyStore) -> None:
    keyring = Keyring(MASTER, key_store=store)
    data_key = os.urandom(32)
    legacy_wrapper = FieldCipher(keyring.derive("org-key-wrapping"), national=False)
    legacy_row = legacy_wrapper.encrypt(data_key, aad=b"org-key:org-a")

    assert keyring.unwrap_master_only("org-a", legacy_row) == data_key
    assert keyring.unwrap_master_only("org-b", legacy_row) is None  # bound to its organisation
    rewrapped = keyring.wrap_org_key("org-a", data_key)
    assert keyring.unwrap_master_only("org-a", rewrapped) is None
    keyring.org_cipher("org-a", rewrapped)  # opens with the secret


def test_file_key_store_keeps_one_secret_per_organisation_private(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path / "keys")

    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: store.create("org-a"), range(16)))

    assert len(secrets) == 1 and store.secret("org-a") in secrets
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "keys" / "org-a.key").stat().st_mode) == 0o600
    assert [stored.org_id for stored in store.stored()] == ["org-a"]
    store.destroy("org-a")
    store.destroy("org-a")  # nothing left: no error
    assert store.secret("org-a") is None and store.stored() == []
    with pytest.raises(ValueError, match="not an organisation id"):
        store.create("../master")


@pytest.mark.parametrize("national", [False, True])
def test_blind_index_is_stable_per_purpose(national: bool) -> None:
    keyring = Keyring(MASTER, key_store=STORE, national=national)

    index = keyring.blind_index("mobile", "13800138000")

    assert len(index) == 32
    assert index == Keyring(MASTER, key_store=STORE, national=national).blind_index("mobile", "13800138000")
    assert index != keyring.blind_index("device", "13800138000")
    assert index != keyring.blind_index("mobile", "13800138001")
    assert index != Keyring(os.urandom(32), key_store=STORE, national=national).blind_index(
        "mobile", "13800138000"
    )


def test_pseudonyms_are_short_stable_and_per_purpose() -> None:
    keyring = Keyring(MASTER, key_store=STORE)

    pseudonym = keyring.pseudonym("access-log", "account-1")

    assert len(pseudonym) == 16
    assert pseudonym == keyring.pseudonym("access-log", "account-1")
    assert pseudonym != keyring.pseudonym("support", "account-1")


def test_digest_follows_the_setting_or_the_named_algorithm() -> None:
    sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    sm3_abc = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    plain, national = Keyring(MASTER, key_store=STORE), Keyring(MASTER, key_store=STORE, national=True)

    assert (plain.digest_algorithm, national.digest_algorithm) == ("sha256", "sm3")
    assert plain.digest(b"abc").hex() == sha256_abc
    assert national.digest(b"abc").hex() == sm3_abc
    assert plain.digest(b"abc", "sm3").hex() == sm3_abc
    assert national.digest(b"abc", "sha256").hex() == sha256_abc
    with pytest.raises(ValueError, match="unknown digest algorithm"):
        plain.digest(b"abc", "md5")


def test_keyring_needs_a_32_byte_master_key() -> None:
    with pytest.raises(ValueError):
        Keyring(os.urandom(16), key_store=STORE)


def test_master_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"

    key = load_master_key(None, data_dir)

    path = data_dir / "master.key"
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_text()) == key
    assert load_master_key(None, data_dir) == key
    assert [entry.name for entry in data_dir.iterdir()] == ["master.key"]


def test_processes_starting_together_share_one_new_master_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(lambda _: load_master_key(None, tmp_path), range(16)))

    assert len(set(keys)) == 1
    assert [entry.name for entry in tmp_path.iterdir()] == ["master.key"]


def test_configured_master_key_wins_over_the_file(tmp_path: Path) -> None:
    configured = os.urandom(32)

    key = load_master_key(base64.b64encode(configured).decode() + "\n", tmp_path)

    assert key == configured
    assert not (tmp_path / "master.key").exists()


@pytest.mark.parametrize(
    "configured",
    [base64.b64encode(os.urandom(16)).decode(), base64.b64encode(os.urandom(33)).decode(), "not base64!"],
    ids=["16 bytes", "33 bytes", "garbage"],
)
def test_configured_master_key_of_the_wrong_size_is_refused(configured: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="ZT_MASTER_KEY must be base64 of exactly 32 bytes"):
        load_master_key(configured, tmp_path)


def test_a_damaged_master_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text(base64.b64encode(os.urandom(20)).decode())

    with pytest.raises(ValueError, match=r"master\.key must be base64 of exactly 32 bytes"):
        load_master_key(None, tmp_path)
