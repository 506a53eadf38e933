#!/usr/bin/env bash
# Installs everything Zhengtong needs to run: a Python virtual environment with the package,
# and the built web client. Safe to run again; it skips what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v python3.11 >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || need_apt+=(python3 python3-venv)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]} from Debian"
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

python_bin=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $python_bin"
  "$python_bin" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "== installing Python dependencies"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi

bash scripts/build-frontend.sh
