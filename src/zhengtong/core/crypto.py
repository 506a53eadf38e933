"""Field encryption, blind indexes, per-organisation data keys and hashing.

- Field encryption: AES-256-GCM, or SM4-GCM when the national-crypto setting is on. Every
  ciphertext starts with one algorithm byte, so both kinds stay readable when the setting changes.
- Blind index: HMAC (SHA-256 or SM3) under a key derived per purpose, for equality lookups on
  encrypted columns (an account by mobile number) without storing the value in clear.
- Organisation data keys: random 256-bit keys, stored in the organisation's row wrapped by a key
  derived from the master key and the organisation's secret in the key store (core.keystore),
  bound to the organisation id. Destroying the secret makes every copy of that organisation's
  ciphertext unreadable, database backups included.
- `self_test()` checks the primitives against published vectors at start-up.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hmac import HMAC
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from zhengtong.core.keystore import KeyStore, StoredSecret

log = logging.getLogger(__name__)

ALG_AES_256_GCM = 1
ALG_SM4_GCM = 2
DIGEST_SHA256 = "sha256"
DIGEST_SM3 = "sm3"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class CryptoError(Exception):
    """Decryption failed: wrong key, tampered ciphertext, or a destroyed organisation key."""


def _sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    body = encryptor.update(plaintext) + encryptor.finalize()
    return body + encryptor.tag


def _sm4_gcm_decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    body, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


class FieldCipher:
    """Encrypts short values (a column) with one key. `aad` binds a value to where it belongs."""

    def __init__(self, key: bytes, national: bool) -> None:
        if len(key) != 32:
            raise ValueError("field keys are 256 bits")
        self._aes = AESGCM(key)
        # SM4 takes 128-bit keys; derive one of its own rather than reuse the AES key's bytes.
        self._sm4_key = HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=b"sm4-gcm").derive(key)
        self._algorithm = ALG_SM4_GCM if national else ALG_AES_256_GCM
        self._national = national
        self._mac_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"keyed-hash").derive(key)

    def encrypt(self, plaintext: bytes, aad: bytes = b"") -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        if self._algorithm == ALG_SM4_GCM:
            sealed = _sm4_gcm_encrypt(self._sm4_key, nonce, plaintext, aad)
        else:
            sealed = self._aes.encrypt(nonce, plaintext, aad)
        return bytes([self._algorithm]) + nonce + sealed

    def decrypt(self, token: bytes, aad: bytes = b"") -> bytes:
        if len(token) < 1 + _NONCE_BYTES + _TAG_BYTES:
            raise CryptoError("ciphertext too short")
        algorithm, nonce, sealed = token[0], token[1 : 1 + _NONCE_BYTES], token[1 + _NONCE_BYTES :]
        try:
            if algorithm == ALG_AES_256_GCM:
                return self._aes.decrypt(nonce, sealed, aad)
            if algorithm == ALG_SM4_GCM:
                return _sm4_gcm_decrypt(self._sm4_key, nonce, sealed, aad)
        except Exception as error:  # InvalidTag and friends
            raise CryptoError("cannot decrypt") from error
        raise CryptoError(f"unknown algorithm {algorithm}")

    def encrypt_text(self, text: str, aad: bytes = b"") -> bytes:
        return self.encrypt(text.encode(), aad)

    def decrypt_text(self, token: bytes, aad: bytes = b"") -> str:
        return self.decrypt(token, aad).decode()

    def keyed_hash(self, purpose: str, data: bytes, length: int = 16) -> bytes:
        """A keyed hash under this key (HMAC-SM3 in national mode): lets an index match values
        without holding them, and becomes meaningless when the key is destroyed."""
        mac = HMAC(self._mac_key, hashes.SM3() if self._national else hashes.SHA256())
        mac.update(purpose.encode() + b"\x00" + data)
        return mac.finalize()[:length]


class Keyring:
    """Every key the platform uses: derived from the one master key, or (organisation data keys)
    wrapped by keys derived from it and the organisation's secret in `key_store`."""

    def __init__(self, master_key: bytes, *, key_store: KeyStore, national: bool = False) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key is 32 bytes")
        self._master = master_key
        self.national = national
        self._key_store = key_store
        self._derived: dict[tuple[str, int], bytes] = {}
        self.platform = FieldCipher(self.derive("platform-fields"), national)
        self._org_ciphers: dict[str, tuple[bytes, FieldCipher]] = {}

    def derive(self, label: str, length: int = 32) -> bytes:
        # Remembered: sessions, access-log pseudonyms and blind indexes derive on every request.
        key = (label, length)
        derived = self._derived.get(key)
        if derived is None:
            hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=b"zhengtong", info=label.encode())
            derived = self._derived[key] = hkdf.derive(self._master)
        return derived

    @property
    def digest_algorithm(self) -> str:
        """The algorithm `digest` uses unless told otherwise: "sm3" under national crypto, else "sha256"."""
        return DIGEST_SM3 if self.national else DIGEST_SHA256

    def _named_hash(self, algorithm: str | None) -> hashes.HashAlgorithm:
        chosen = algorithm or self.digest_algorithm
        if chosen == DIGEST_SHA256:
            return hashes.SHA256()
        if chosen == DIGEST_SM3:
            return hashes.SM3()
        raise ValueError(f"unknown digest algorithm {chosen!r}")

    def digest(self, data: bytes, algorithm: str | None = None) -> bytes:
        """SHA-256, or SM3 under national crypto. `algorithm` names one explicitly, so that data
        hashed before the setting changed can still be checked."""
        hasher = hashes.Hash(self._named_hash(algorithm))
        hasher.update(data)
        return hasher.finalize()

    def keyed_digest(self, purpose: str, data: bytes, algorithm: str | None = None) -> bytes:
        """HMAC (SHA-256 or SM3) under a key derived for `purpose`: a hash only the holder of the
        master key can compute, so whoever can write the database cannot forge it."""
        mac = HMAC(self.derive(f"mac:{purpose}"), self._named_hash(algorithm))
        mac.update(data)
        return mac.finalize()

    def blind_index(self, purpose: str, value: str) -> bytes:
        """Keyed hash for equality lookups; the same value gives the same index only per purpose.
        It follows the national-crypto setting, which is therefore chosen before the first start:
        indexes made under one setting are not found under the other."""
        mac = HMAC(self.derive(f"blind-index:{purpose}"), self._named_hash(None))
        mac.update(value.encode())
        return mac.finalize()

    def pseudonym(self, purpose: str, value: str, length: int = 16) -> str:
        """Short stable keyed pseudonym for logs (not reversible without the master key)."""
        return base64.b32encode(self.blind_index(f"pseudonym:{purpose}", value)).decode()[:length].lower()

    # Organisation data keys -------------------------------------------------------------------
    def _org_wrapper(self, org_id: str, secret: bytes) -> FieldCipher:
        hkdf = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=secret, info=b"org-key-wrapping:" + org_id.encode()
        )
        return FieldCipher(hkdf.derive(self.derive("org-key-wrapping")), self.national)

    def new_org_key(self, org_id: str) -> bytes:
        """A fresh data key for an organisation, returned wrapped (store this, never the key)."""
        return self.wrap_org_key(org_id, os.urandom(32))

    def wrap_org_key(self, org_id: str, data_key: bytes) -> bytes:
        """`data_key` wrapped for the organisation's row; makes the organisation's secret if needed."""
        secret = self._key_store.create(org_id)
        return self._org_wrapper(org_id, secret).encrypt(data_key, aad=b"org-key:" + org_id.encode())

    def org_cipher(self, org_id: str, wrapped_key: bytes | None) -> FieldCipher:
        if wrapped_key is None:
            raise CryptoError("the organisation's data key has been destroyed")
        # Cached with the wrapped key it came from: another wrapped key (a rotated one, or one
        # wrapped for a different organisation) is unwrapped and checked, never served from cache.
        cached = self._org_ciphers.get(org_id)
        if cached is None or cached[0] != wrapped_key:
            secret = self._key_store.secret(org_id)
            if secret is None:
                raise CryptoError("the organisation's key secret has been destroyed or is missing")
            key = self._org_wrapper(org_id, secret).decrypt(wrapped_key, aad=b"org-key:" + org_id.encode())
            cached = self._org_ciphers[org_id] = (wrapped_key, FieldCipher(key, self.national))
        return cached[1]

    def unwrap_master_only(self, org_id: str, wrapped_key: bytes) -> bytes | None:
        """The data key of a row wrapped before key secrets existed (by the master key alone),
        None for any other row. Only for re-wrapping such rows (org.keys.reconcile)."""
        legacy = FieldCipher(self.derive("org-key-wrapping"), self.national)
        try:
            return legacy.decrypt(wrapped_key, aad=b"org-key:" + org_id.encode())
        except CryptoError:
            return None

    def stored_secrets(self) -> list[StoredSecret]:
        return self._key_store.stored()

    def destroy_org_key(self, org_id: str) -> None:
        """Crypto-shredding: deletes the organisation's secret, after which no copy of its
        wrapped data key (in the database or any backup of it) opens again."""
        self._org_ciphers.pop(org_id, None)
        self._key_store.destroy(org_id)


def _decode_master_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ValueError(f"{source} must be base64 of exactly 32 bytes")
    return key


def _create_master_key_file(path: Path) -> None:
    """Writes a new key next to `path`, then links it into place: several processes starting
    at once all end up reading the one key that won, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=".master.key.")  # mode 0600
    temporary = Path(temporary_name)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(os.urandom(32)).decode() + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        return  # another process was first; its key is the one everybody uses
    finally:
        temporary.unlink()
    log.warning(
        "generated a new master key at %s; back it up apart from the database, or set ZT_MASTER_KEY", path
    )


def load_master_key(configured: str | None, data_dir: Path) -> bytes:
    """The configured key (base64), else data_dir/master.key, created with mode 0600 if absent."""
    if configured:
        return _decode_master_key(configured, "ZT_MASTER_KEY")
    path = data_dir / "master.key"
    if not path.exists():
        _create_master_key_file(path)
    return _decode_master_key(path.read_text(), str(path))


# Published vectors ---------------------------------------------------------------------------
# AES-256-GCM: "The Galois/Counter Mode of Operation", test case 15.
_AES_KEY = bytes.fromhex("feffe9928665731c6d6a8f9467308308" * 2)
_AES_IV = bytes.fromhex("cafebabefacedbaddecaf888")
_AES_PT = bytes.fromhex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
)
_AES_CT_TAG = bytes.fromhex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
    "b094dac5d93471bdec1a502270e3cc6c"
)
# SM4: GB/T 32907-2016 appendix A example 1.
_SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
_SM4_CT = bytes.fromhex("681edf34d206965e86b3e94f536e4246")
# SM3: GB/T 32905-2016 example 1 ("abc"); SHA-256 of "abc" from FIPS 180-2.
_SM3_ABC = bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
_SHA256_ABC = bytes.fromhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


class CryptoSelfTestError(RuntimeError):
    pass


def self_test() -> None:
    """Checks AES-256-GCM, SM4, SM3 and SHA-256 against published vectors; raises on mismatch."""
    failures = []
    if AESGCM(_AES_KEY).encrypt(_AES_IV, _AES_PT, None) != _AES_CT_TAG:
        failures.append("AES-256-GCM")
    encryptor = Cipher(algorithms.SM4(_SM4_KEY), modes.ECB()).encryptor()
    if encryptor.update(_SM4_KEY) + encryptor.finalize() != _SM4_CT:
        failures.append("SM4")
    for name, algorithm, expected in (
        ("SM3", hashes.SM3(), _SM3_ABC),
        ("SHA-256", hashes.SHA256(), _SHA256_ABC),
    ):
        hasher = hashes.Hash(algorithm)
        hasher.update(b"abc")
        if hasher.finalize() != expected:
            failures.append(name)
    for national in (False, True):
        cipher = FieldCipher(bytes(range(32)), national)
        if cipher.decrypt(cipher.encrypt(b"self-test", b"aad"), b"aad") != b"self-test":
            failures.append("SM4-GCM round trip" if national else "AES-GCM round trip")
    if failures:
        raise CryptoSelfTestError("crypto self-test failed: " + ", ".join(failures))
