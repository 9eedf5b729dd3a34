# Helpers shared by the scripts under scripts/ and bench/ (sourced, not run).

# cargo_binary PROFILE: builds the todo-api binary in PROFILE (debug or release) quietly and
# prints its path, wherever cargo puts its target directory (CARGO_TARGET_DIR included).
cargo_binary() {
    local profile=$1 flag=()
    [ "$profile" = release ] && flag=(--release)
    cargo build -q "${flag[@]}" -p api-actix --bin todo-api >&2
    local target
    target=$(cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
    echo "$target/$profile/todo-api"
}

# A TCP port that is free now on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_server BINARY LOG: runs `BINARY serve` in the background with the caller's environment
# on a free port, waits until /health answers, and sets SERVER_PID, BASE_URL and
# SERVER_READY_MS (from exec to that answer, to the polling step: START_POLL_MS, default 50).
# The caller stops it (stop_server) in its EXIT trap.
start_server() {
    local binary=$1 log=$2 step_ms=${START_POLL_MS:-50} started
    export HOST=127.0.0.1 PORT
    PORT=$(free_port)
    BASE_URL="http://127.0.0.1:$PORT"
    started=$(date +%s%N)
    "$binary" serve >"$log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 $((20000 / step_ms))); do
        if curl -fsS -o /dev/null "$BASE_URL/health" 2>/dev/null; then
            SERVER_READY_MS=$((($(date +%s%N) - started) / 1000000))
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "the server exited; its log:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep "$(printf '0.%03d' "$step_ms")"
    done
    echo "the server did not answer /health within 20 s; its log:" >&2
    cat "$log" >&2
    return 1
}

stop_server() {
    if [ -n "${SERVER_PID:-}" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}

# A random secret of 48 hex characters.
random_secret() {
    python3 -c 'import secrets; print(secrets.token_hex(24))'
}
