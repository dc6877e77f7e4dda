# Shared by scripts/test, scripts/demo and scripts/bench. Source it; do not run it.

# start_moto [stock]: starts the STS/IAM emulator from .venv on a free loopback port, exports
# MFA_SESSION_TEST_MOTO=http://127.0.0.1:PORT and stops it when the calling script exits.
# By default it is scripts/emulator.py: the pinned moto patched to check MFA codes and serials
# like AWS and to issue per-call session keys. "stock" runs plain moto_server (no MFA checks),
# which the benchmark needs to log in many times a second.
start_moto() {
  local port server
  if [ "${1:-}" = stock ]; then server=(.venv/bin/moto_server); else server=(.venv/bin/python scripts/emulator.py); fi
  port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  MOTO_LOG=$(mktemp -t moto.XXXXXX.log)
  # The patched emulator logs "USER ACTION" per STS/IAM call here, for tests that count calls.
  MFA_SESSION_EMULATOR_CALLS=$(mktemp -t moto-calls.XXXXXX.log)
  export MFA_SESSION_EMULATOR_CALLS
  "${server[@]}" -H 127.0.0.1 -p "$port" >"$MOTO_LOG" 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true; rm -f "$MOTO_LOG" "$MFA_SESSION_EMULATOR_CALLS"' EXIT
  for _ in $(seq 1 100); do
    if .venv/bin/python -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
      export MFA_SESSION_TEST_MOTO="http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$MOTO_PID" 2>/dev/null || { echo "moto failed to start:" >&2; cat "$MOTO_LOG" >&2; return 1; }
    sleep 0.2
  done
  echo "moto did not start listening on port $port within 20 s" >&2
  cat "$MOTO_LOG" >&2
  return 1
}
