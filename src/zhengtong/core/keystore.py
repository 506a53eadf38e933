"""Where each organisation's key secret lives: outside the database, so that destroying it makes
every copy of the organisation's sealed data unreadable, backups of the database included.

An organisation's data key is stored in its database row wrapped by a key derived from the master
key *and* the organisation's secret held here (see crypto.Keyring). Neither half opens anything
alone: the database with the master key but without the secret is noise, and so are the secrets
without the database. Deregistration deletes the secret (crypto-shredding).

The key directory (`ZT_KEY_DIR`, data_dir/keys by default) must therefore not be backed up
together with the database: back it up apart, with a retention no longer than the database's
backups', or not at all. Several server processes share one directory (a shared volume).
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

SECRET_BYTES = 32
_ORG_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # an id becomes a file name: nothing else gets in


@dataclass(frozen=True)
class StoredSecret:
    org_id: str
    created_at: datetime


class KeyStore(Protocol):
    def secret(self, org_id: str) -> bytes | None:
        """The organisation's secret, None when it was never made or has been destroyed."""

    def create(self, org_id: str) -> bytes:
        """The organisation's secret, made now unless it exists (then that one: never replaced)."""

    def destroy(self, org_id: str) -> None:
        """Deletes the secret for good; nothing when there is none."""

    def stored(self) -> list[StoredSecret]:
        """Every secret held, to find those whose organisation is gone."""


def _checked(org_id: str) -> str:
    if not _ORG_ID.match(org_id):
        raise ValueError(f"not an organisation id: {org_id!r}")
    return org_id


class FileKeyStore:
    """One file per organisation (`<org id>.key`, base64, mode 0600) in a directory of mode 0700."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, org_id: str) -> Path:
        return self.directory / f"{_checked(org_id)}.key"

    def secret(self, org_id: str) -> bytes | None:
        try:
            return base64.b64decode(self._path(org_id).read_text())
        except FileNotFoundError:
            return None

    def create(self, org_id: str) -> bytes:
        path = self._path(org_id)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written beside, then linked into place: of processes creating at once, all read the one
        # secret that won, never a half-written file.
        descriptor, temporary_name = tempfile.mkstemp(dir=self.directory, prefix=".new.")  # mode 0600
        temporary = Path(temporary_name)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(base64.b64encode(os.urandom(SECRET_BYTES)).decode())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # made earlier, or by another process: that one stays
        finally:
            temporary.unlink()
        return base64.b64decode(path.read_text())

    def destroy(self, org_id: str) -> None:
        self._path(org_id).unlink(missing_ok=True)

    def stored(self) -> list[StoredSecret]:
        if not self.directory.exists():
            return []
        return [
            StoredSecret(path.stem, datetime.fromtimestamp(path.stat().st_mtime, UTC))
            for path in self.directory.glob("*.key")
        ]


class MemoryKeyStore:
    """Secrets in memory: for tests and tools that make throwaway organisations."""

    def __init__(self) -> None:
        self._secrets: dict[str, tuple[bytes, datetime]] = {}

    def secret(self, org_id: str) -> bytes | None:
        held = self._secrets.get(_checked(org_id))
        return None if held is None else held[0]

    def create(self, org_id: str) -> bytes:
        held = self._secrets.setdefault(_checked(org_id), (os.urandom(SECRET_BYTES), datetime.now(UTC)))
        return held[0]

    def destroy(self, org_id: str) -> None:
        self._secrets.pop(org_id, None)

    def stored(self) -> list[StoredSecret]:
        return [StoredSecret(org_id, created_at) for org_id, (_, created_at) in self._secrets.items()]
