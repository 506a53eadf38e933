"""Local file storage: objects under a root directory, keys that cannot leave it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from zhengtong.platform.storage import LocalStorage


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


async def test_put_then_get_returns_the_bytes(storage: LocalStorage) -> None:
    await storage.put("org1/drive/报告.pdf", b"%PDF-1.7 ...")

    assert await storage.get("org1/drive/报告.pdf") == b"%PDF-1.7 ..."
    assert await storage.exists("org1/drive/报告.pdf")


async def test_missing_objects(storage: LocalStorage) -> None:
    assert not await storage.exists("nothing/here")
    with pytest.raises(FileNotFoundError):
        await storage.get("nothing/here")
    await storage.delete("nothing/here")  # deleting what is not there is not an error


async def test_delete_removes_the_object(storage: LocalStorage) -> None:
    await storage.put("org1/a", b"a")

    await storage.delete("org1/a")

    assert not await storage.exists("org1/a")
    assert list(storage.keys()) == []


async def test_keys_lists_objects_sorted_and_by_prefix(storage: LocalStorage) -> None:
    for key in ("org2/x", "org1/b", "org1/a/deep"):
        await storage.put(key, b".")

    assert list(storage.keys()) == ["org1/a/deep", "org1/b", "org2/x"]
    assert list(storage.keys("org1/")) == ["org1/a/deep", "org1/b"]


async def test_put_replaces_atomically(storage: LocalStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    await storage.put("org1/a", b"old")
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(source: str | Path, target: str | Path) -> None:
        # At the moment of the swap the old content is still whole and the new one is complete.
        assert Path(target).read_bytes() == b"old"
        assert Path(source).read_bytes() == b"new content"
        replaced.append((str(source), str(target)))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    await storage.put("org1/a", b"new content")

    assert len(replaced) == 1
    assert await storage.get("org1/a") == b"new content"
    assert list(storage.keys()) == ["org1/a"]  # no temporary file left behind


@pytest.mark.parametrize("key", ["../outside", "org1/../../outside", "/etc/passwd", "", ".", "org1/.."])
async def test_keys_outside_the_root_are_refused(storage: LocalStorage, key: str) -> None:
    with pytest.raises(ValueError, match="escapes the storage root"):
        await storage.put(key, b"x")
    with pytest.raises(ValueError, match="escapes the storage root"):
        await storage.get(key)


async def test_a_symlink_out_of_the_root_is_refused(storage: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (storage.root / "link").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ValueError, match="escapes the storage root"):
        await storage.put("link/file", b"x")
    assert not (outside / "file").exists()
