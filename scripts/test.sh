#!/usr/bin/env bash
# Runs every test against the real services: PostgreSQL (DATABASE_URL, default the local
# server), a Kafka-protocol broker (KAFKA_BROKERS; when unset, tansu is started locally),
# an SMTP server and headless Chromium (installed by scripts/test-deps.sh when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

scripts/test-deps.sh
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
if [ -z "${KAFKA_BROKERS:-}" ]; then
  scripts/broker.sh start
  export KAFKA_BROKERS=127.0.0.1:9092
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
