"""The web client's TypeScript types are generated from frontend/openapi.json; this test fails when
that document no longer matches what the server code produces, so the types cannot drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from zhengtong.app import create_app
from zhengtong.core.config import Settings

COMMITTED = Path(__file__).resolve().parents[1] / "frontend" / "openapi.json"


def _differences(old: Any, new: Any, path: str = "") -> list[str]:
    """A short list of where two JSON documents differ, for a readable failure."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new)):
            where = f"{path}/{key}"
            if key not in old:
                found.append(f"added:   {where}")
            elif key not in new:
                found.append(f"removed: {where}")
            else:
                found.extend(_differences(old[key], new[key], where))
        return found
    return [] if old == new else [f"changed: {path or '/'}"]


def test_committed_openapi_document_matches_the_server() -> None:
    current = json.loads(json.dumps(create_app(Settings()).openapi()))
    committed = json.loads(COMMITTED.read_text("utf-8"))
    if committed != current:
        changes = _differences(committed, current)
        shown = "\n  ".join(changes[:25]) + (
            f"\n  … and {len(changes) - 25} more" if len(changes) > 25 else ""
        )
        raise AssertionError(
            "frontend/openapi.json is out of date with the API; run scripts/build-frontend.sh "
            "(regenerates it and the TypeScript types) and commit the result.\n  " + shown
        )


def test_generated_typescript_types_cover_every_path_of_the_document() -> None:
    """A cheap check that `npm run gen:api` ran after openapi.json last changed (the full
    regeneration needs Node and runs in scripts/build-frontend.sh)."""
    generated = (COMMITTED.parent / "src" / "api" / "schema.gen.ts").read_text("utf-8")
    declared = set(re.findall(r'^    "(/[^"]*)": \{$', generated, flags=re.MULTILINE))
    documented = set(json.loads(COMMITTED.read_text("utf-8"))["paths"])
    assert declared == documented, (
        "frontend/src/api/schema.gen.ts does not match frontend/openapi.json; run scripts/build-frontend.sh. "
        f"Missing: {sorted(documented - declared)}; stale: {sorted(declared - documented)}"
    )
