#!/usr/bin/env bash
# One-command local stack: Prefect server on 127.0.0.1 + a process serving the clipflows deployments.
#   deploy/local-stack.sh start [deployment ...]   # prints the UI address; state in $STACK_DIR
#   deploy/local-stack.sh stop                     # stops both by PID
#   deploy/local-stack.sh status
# Env: PREFECT_PORT (4200), STACK_DIR (~/.cache/clipflows/local-stack), PY (.venv/bin/python),
# PREFECT_SERVER_ANALYTICS_ENABLED (false).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PY:-$REPO/.venv/bin/python}"
PORT="${PREFECT_PORT:-4200}"
STACK_DIR="${STACK_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/clipflows/local-stack}"
export PREFECT_HOME="$STACK_DIR/prefect-home"
export PREFECT_API_URL="http://127.0.0.1:$PORT/api"
# An offline machine's server would log "Failed to send telemetry" every ten minutes.
export PREFECT_SERVER_ANALYTICS_ENABLED="${PREFECT_SERVER_ANALYTICS_ENABLED:-false}"
mkdir -p "$STACK_DIR" "$PREFECT_HOME"

alive() { [ -f "$STACK_DIR/$1.pid" ] && kill -0 "$(cat "$STACK_DIR/$1.pid")" 2>/dev/null; }

case "${1:-start}" in
  start)
    shift || true
    if alive server; then echo "already running (deploy/local-stack.sh stop first)"; exit 1; fi
    "$PY" -m prefect server start --host 127.0.0.1 --port "$PORT" >"$STACK_DIR/server.log" 2>&1 &
    echo $! >"$STACK_DIR/server.pid"
    for _ in $(seq 1 120); do
      curl -fsS "$PREFECT_API_URL/health" >/dev/null 2>&1 && break
      alive server || { echo "server died; see $STACK_DIR/server.log"; exit 1; }
      sleep 1
    done
    curl -fsS "$PREFECT_API_URL/health" >/dev/null || { echo "server not healthy after 120 s"; exit 1; }
    "$PY" "$REPO/deploy/serve.py" "$@" >"$STACK_DIR/serve.log" 2>&1 &
    echo $! >"$STACK_DIR/serve.pid"
    echo "Prefect UI: http://127.0.0.1:$PORT   (export PREFECT_API_URL=$PREFECT_API_URL)"
    echo "Logs: $STACK_DIR/server.log $STACK_DIR/serve.log"
    ;;
  stop)
    for name in serve server; do
      if alive "$name"; then
        pid="$(cat "$STACK_DIR/$name.pid")"
        kill -TERM "$pid"
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"  # serve can hang on a closed websocket
        echo "stopped $name"
      fi
      rm -f "$STACK_DIR/$name.pid"
    done
    ;;
  status)
    for name in server serve; do alive "$name" && echo "$name: running" || echo "$name: stopped"; done
    ;;
  *) echo "usage: $0 start [deployment ...] | stop | status"; exit 2 ;;
esac
