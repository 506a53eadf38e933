#!/usr/bin/env bash
# Quick start: install, create the demo organisation, serve on http://127.0.0.1:8000
# (SQLite, local files and the in-process bus under ./var unless ZT_* variables say otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/zhengtong demo
exec .venv/bin/zhengtong serve --host "${ZT_HOST:-127.0.0.1}" --port "${ZT_PORT:-8000}"
