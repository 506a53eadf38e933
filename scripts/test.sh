#!/usr/bin/env bash
# Installs everything (Python, web client, Chromium for browser tests) and runs every check:
# ruff, mypy, the web client's type check (inside the build) and the whole pytest suite.
#   bash scripts/test.sh               # SQLite, in-process bus (Redis tests use 127.0.0.1:6379)
#   ZT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \
#   ZT_TEST_REDIS_URL=redis://127.0.0.1:6379/0 bash scripts/test.sh   # PostgreSQL + Redis
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh
bash scripts/install-browser.sh

echo "== ruff"
.venv/bin/ruff check src tests bench migrations
.venv/bin/ruff format --check src tests bench migrations
echo "== mypy"
.venv/bin/mypy
echo "== pytest (database: ${ZT_TEST_DATABASE_URL:-sqlite})"
started=$(date +%s)
.venv/bin/pytest "$@"
echo "== test suite took $(( $(date +%s) - started )) s"
