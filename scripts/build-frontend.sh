#!/usr/bin/env bash
# Builds the web client into src/zhengtong/static/ (served by the Python app).
#   1. npm ci, only when node_modules is missing or package-lock.json changed since the last install
#   2. regenerate frontend/openapi.json from the server code and the TypeScript types from it
#   3. typecheck and build
# Works on a fresh clone: needs Node >= 20.19 with npm, and the Python virtualenv in .venv.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
ZHENGTONG="${ZHENGTONG:-$ROOT/.venv/bin/zhengtong}"

command -v npm >/dev/null || { echo "npm is not installed (Node 20 + npm are needed)" >&2; exit 1; }
[[ -x "$ZHENGTONG" ]] || { echo "$ZHENGTONG not found: create the virtualenv first (pip install -e '.[dev]')" >&2; exit 1; }

cd "$FRONTEND"
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)"
stamp="node_modules/.zt-lock-hash"
if [[ ! -d node_modules || ! -f "$stamp" || "$(cat "$stamp")" != "$lock_hash" ]]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

echo "==> openapi.json and TypeScript types"
# Written through a temporary file so a failing command never leaves a truncated document behind.
tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
"$ZHENGTONG" openapi > "$tmp"
mv "$tmp" openapi.json
npm run --silent gen:api

echo "==> typecheck and build"
npm run --silent build
echo "==> built into src/zhengtong/static/"
