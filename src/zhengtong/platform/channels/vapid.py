"""The installation's VAPID key pair (RFC 8292) and the checks on a browser's push subscription.

The key: `ZT_VAPID_PRIVATE_KEY` (base64url of the 32-byte P-256 private value, as
`web-push generate-vapid-keys` prints it), else `data_dir/vapid.key`, created once with mode 0600.
Browsers subscribe with its public key (the `applicationServerKey`), and push services accept only
requests signed with the private key, so replacing it orphans every subscription.

A subscription's endpoint is on the browser's push service (Google's for Chromium, Mozilla's for
Firefox, the phone maker's), outside the installation like the browser itself: the payload is
encrypted for the browser (webpush.py), so the push service carries only ciphertext, its size and
its time. Endpoints are therefore not held to `allowed_hosts`; an operator who runs a push service
of their own may restrict them with `ZT_PUSH_ALLOWED_HOSTS`. Plain http is accepted only for hosts
in `allowed_hosts` (this machine, private networks).
"""

from __future__ import annotations

import base64
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from py_vapid import Vapid

from zhengtong.core.config import Settings
from zhengtong.privacy.scan.residency import endpoint_hosts, host_allowed

JWT_SECONDS = 12 * 3600  # lifetime of a VAPID signature (push services refuse more than 24 h)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VapidKey:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_key(self) -> str:
        """base64url of the uncompressed public point: the browser's applicationServerKey."""
        point = self.private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return b64url(point)

    def authorization(self, endpoint: str, subject: str) -> str:
        """The Authorization header for a request to `endpoint`'s push service."""
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "sub": subject,
            "exp": int(time.time()) + JWT_SECONDS,
        }
        signed: dict[str, str] = Vapid(private_key=self.private_key).sign(claims)
        return signed["Authorization"]


def _key_from_text(text: str, origin: str) -> VapidKey:
    try:
        raw = b64url_decode(text.strip())
        if len(raw) != 32:
            raise ValueError("not 32 bytes")
        return VapidKey(ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()))
    except ValueError as error:
        raise ValueError(f"{origin} is not a base64url P-256 private key of 32 bytes") from error


def _create_key_file(path: Path) -> None:
    """Written beside, then linked into place: of processes starting at once, all read the one
    key that won, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    value = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=".vapid.key.")  # mode 0600
    temporary = Path(temporary_name)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(b64url(value.to_bytes(32, "big")) + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass  # another process was first; its key is the one everybody uses
    finally:
        temporary.unlink()


def load_vapid_key(configured: str | None, path: Path) -> VapidKey:
    """The configured key, else the one in `path`, created there if absent."""
    if configured:
        return _key_from_text(configured, "ZT_VAPID_PRIVATE_KEY")
    if not path.exists():
        _create_key_file(path)
    return _key_from_text(path.read_text(), str(path))


@dataclass(frozen=True)
class Subscription:
    """What a browser's PushSubscription gives: where to post and the keys to encrypt for."""

    endpoint: str
    p256dh: str  # base64url of the browser's P-256 public point
    auth: str  # base64url of the 16-byte authentication secret


def endpoint_refusal(settings: Settings, endpoint: str) -> str | None:
    """Why pushes may not go to `endpoint`, or None when they may (see the module docstring)."""
    parts = urlsplit(endpoint)
    hosts = endpoint_hosts(endpoint)
    if parts.scheme not in ("https", "http") or len(hosts) != 1:
        return "scheme"
    if parts.scheme == "http" and not host_allowed(hosts[0], settings.allowed_hosts):
        return "scheme"
    if settings.push_allowed_hosts and not host_allowed(hosts[0], settings.push_allowed_hosts):
        return "host"
    return None


def keys_refusal(p256dh: str, auth: str) -> str | None:
    """Which key of a subscription is malformed ("p256dh", "auth"), or None."""
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(p256dh))
    except (ValueError, TypeError):
        return "p256dh"
    try:
        if len(b64url_decode(auth)) != 16:
            return "auth"
    except ValueError:
        return "auth"
    return None
