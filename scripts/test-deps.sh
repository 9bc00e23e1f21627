#!/usr/bin/env bash
# Installs what the review tests need besides PostgreSQL and the broker, if missing: a real
# SMTP server (Debian's python3-aiosmtpd), headless Chromium (Debian's chromium), curl and
# jq (docs/integrate.md's examples run as written), and
# Playwright to drive it (ui-tests/, pinned by its package-lock.json). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! /usr/bin/python3 -c "import aiosmtpd" 2>/dev/null || ! command -v chromium >/dev/null \
  || ! command -v curl >/dev/null || ! command -v jq >/dev/null; then
  echo "test-deps: installing python3-aiosmtpd, chromium, curl and jq" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >/dev/null || true
  $sudo apt-get install -y -q python3-aiosmtpd chromium curl jq >/dev/null
fi
if [ ! -d ui-tests/node_modules/playwright-core ]; then
  echo "test-deps: installing the UI test driver (playwright-core)" >&2
  (cd ui-tests && npm ci --no-audit --no-fund --loglevel=error)
fi
