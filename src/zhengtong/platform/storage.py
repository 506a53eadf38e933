"""File storage behind one interface: a local directory now, S3-compatible storage with the drive."""

from __future__ import annotations

import os
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
        for path in sorted(self.root.rglob("*")):
            if path.is_file() and not path.name.endswith(_PARTIAL_SUFFIX):
                key = path.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key
