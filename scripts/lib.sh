# Shared by scripts/test, scripts/demo and scripts/bench. Source it; do not run it.

# start_moto: starts the pinned moto STS/IAM emulator from .venv on a free loopback port,
# exports MFA_SESSION_TEST_MOTO=http://127.0.0.1:PORT and stops the emulator when the calling
# script exits.
start_moto() {
  local port log
  port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  log=$(mktemp -t moto.XXXXXX.log)
  .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true; rm -f "$log"' EXIT
  for _ in $(seq 1 100); do
    if .venv/bin/python -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
      export MFA_SESSION_TEST_MOTO="http://127.0.0.1:$port"
      return 0
    fi
    kill -0 "$MOTO_PID" 2>/dev/null || { echo "moto failed to start:" >&2; cat "$log" >&2; return 1; }
    sleep 0.2
  done
  echo "moto did not start listening on port $port within 20 s" >&2
  cat "$log" >&2
  return 1
}
