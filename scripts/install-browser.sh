#!/usr/bin/env bash
# Installs what the browser tests (tests/e2e) need: Debian's Chromium and CJK fonts.
# Playwright (PyPI) drives /usr/bin/chromium; never run `playwright install` here, it downloads
# a browser build of its own and fails on these machines.
set -euo pipefail

font_present() {
  fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || dpkg -s fonts-noto-cjk >/dev/null 2>&1
}

if [[ -x /usr/bin/chromium ]] && font_present; then
  echo "chromium and fonts-noto-cjk are already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
echo "installed: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
