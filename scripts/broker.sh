#!/usr/bin/env bash
# Starts a Kafka-protocol broker for development and tests: tansu (Apache-2.0, crates.io)
# with its in-memory storage engine, on 127.0.0.1:9092. Installs tansu on first use
# (≈15 minutes cold on 2 cores; the binary is then cached in ~/.cargo/bin).
#
#   scripts/broker.sh start   # idempotent: reuses a broker already listening
#   scripts/broker.sh stop
set -euo pipefail

TANSU_VERSION=0.6.0
HOST=127.0.0.1
PORT=${TANSU_PORT:-9092}
LOG=${TANSU_LOG:-${TMPDIR:-/tmp}/deskhand-tansu.log}
PIDFILE=${TMPDIR:-/tmp}/deskhand-tansu.pid
export PATH="$HOME/.cargo/bin:$PATH"

listening() { (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null; }

install_tansu() {
  if command -v tansu >/dev/null && tansu --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    return
  fi
  echo "broker: installing tansu $TANSU_VERSION (first time only, ~15 min)…" >&2
  # --locked: tansu's own lock file is what compiles; dynostore: the in-memory engine.
  cargo install tansu --version "$TANSU_VERSION" --locked --features dynostore >&2
}

case "${1:-start}" in
  start)
    if listening; then
      echo "broker: already listening on $HOST:$PORT" >&2
      exit 0
    fi
    install_tansu
    # OTEL_EXPORTER_OTLP_ENDPOINT would make tansu export its own traces; keep it quiet.
    env -u OTEL_EXPORTER_OTLP_ENDPOINT nohup tansu broker \
      --listener-url "tcp://$HOST:$PORT" \
      --advertised-listener-url "tcp://$HOST:$PORT" \
      --storage-engine memory://tansu/ >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 100); do
      if listening; then
        echo "broker: tansu listening on $HOST:$PORT (log: $LOG)" >&2
        exit 0
      fi
      sleep 0.2
    done
    echo "broker: tansu did not start; log follows" >&2
    cat "$LOG" >&2
    exit 1
    ;;
  stop)
    if [ -f "$PIDFILE" ]; then
      kill "$(cat "$PIDFILE")" 2>/dev/null || true
      rm -f "$PIDFILE"
    fi
    ;;
  *)
    echo "usage: $0 [start|stop]" >&2
    exit 2
    ;;
esac
