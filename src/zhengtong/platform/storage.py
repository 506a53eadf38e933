"""File storage behind one interface: a local directory now, S3-compatible storage with the drive.

Key layout, which erasure relies on to find every file of an organisation or a person without a
list of features: an organisation's files live under "<area>/<org_id>/…" (im/<org>/<file>,
org/<org>/exports/<job>); a member's own files under "<area>/<org_id>/members/<membership_id>/…";
an account's own files outside any organisation under "<area>/accounts/<account_id>/…".
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

_PARTIAL_SUFFIX = ".part"  # a write in progress, or one a crash interrupted


class Storage(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    def keys(self, prefix: str = "") -> Iterator[str]: ...

    def areas(self) -> list[str]:
        """The first segments of the keys in use ("im", "org", …)."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Deletes every object whose key starts with `prefix` (which ends in "/"); returns how many."""
        ...


class LocalStorage:
    """Objects as files under `root`; keys are relative paths with '/' separators."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own per write, so two writers of one key never share a temporary file.
        temporary = path.with_name(f"{path.name}.{uuid.uuid4().hex}{_PARTIAL_SUFFIX}")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # readers never see half a file

    async def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    async def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def keys(self, prefix: str = "") -> Iterator[str]:
        # Only the directory the prefix names is walked, not the whole store.
        start = self._path(prefix.rsplit("/", 1)[0]) if "/" in prefix else self.root
        if not start.is_dir():
            return
        for path in sorted(start.rglob("*")):
            if path.is_file() and not path.name.endswith(_PARTIAL_SUFFIX):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    def areas(self) -> list[str]:
        return sorted(path.name for path in self.root.iterdir() if path.is_dir())

    async def delete_prefix(self, prefix: str) -> int:
        if not prefix.endswith("/"):
            raise ValueError(f"a prefix to delete names a directory and ends in '/': {prefix!r}")
        directory = self._path(prefix.rstrip("/"))
        if not directory.is_dir():
            return 0
        count = sum(1 for path in directory.rglob("*") if path.is_file())
        await asyncio.to_thread(shutil.rmtree, directory, True)
        return count


def member_prefix(area: str, org_id: str, membership_id: str) -> str:
    """Where `area` keeps a member's own files (their uploads that are not the organisation's)."""
    return f"{area}/{org_id}/members/{membership_id}/"


def account_prefix(area: str, account_id: str) -> str:
    """Where `area` keeps an account's own files outside any organisation."""
    return f"{area}/accounts/{account_id}/"


async def delete_organization_files(storage: Storage, org_id: str) -> int:
    """Deletes every file of the organisation in every area; returns how many."""
    return sum([await storage.delete_prefix(f"{area}/{org_id}/") for area in storage.areas()])


async def delete_member_files(storage: Storage, org_id: str, membership_id: str) -> int:
    """Deletes a member's own files in every area."""
    return sum(
        [await storage.delete_prefix(member_prefix(area, org_id, membership_id)) for area in storage.areas()]
    )


async def delete_account_files(storage: Storage, account_id: str) -> int:
    """Deletes an account's own files in every area."""
    return sum([await storage.delete_prefix(account_prefix(area, account_id)) for area in storage.areas()])
