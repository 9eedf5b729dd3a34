# Recipes for working on the Todo API. `just` itself: `cargo install just --locked`.
# `set dotenv-load` makes every recipe read .env, like the server does.
set dotenv-load

pg_url := env_var_or_default("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")

# List the recipes.
default:
    @just --list

# Serve the API (SQLite and a generated secret unless .env says otherwise).
run:
    cargo run -p api-actix

# Every test; PostgreSQL tests run when TEST_DATABASE_URL is set, else they are skipped.
test:
    cargo test --workspace

# Every test, PostgreSQL ones required (TEST_DATABASE_URL, default the local server).
test-pg:
    CI=true TEST_DATABASE_URL={{pg_url}} cargo test --workspace

# Formatting check and clippy with warnings denied.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# Migrations: just migrate up|down|status|fresh
migrate *args:
    cargo run -q -p api-actix -- migrate {{args}}

# Print a token for a user id, signed with the configured secret: just token alice
token sub:
    cargo run -q -p api-actix -- token --sub {{sub}}

# The API under load side by side with bench/reference, the least this stack does for the
# same requests (release builds, wrk, alternating rounds, medians), then live events under
# load (bench-streams).
bench:
    bench/run
    bench/streams

# Live events: 5,000 streams on one instance, 500 writes/s on another; RSS and latency.
bench-streams:
    bench/streams

# The typed TypeScript client: regenerate it from this server's OpenAPI document, lint the
# document, test the client; fails when what it wrote differs from what is committed.
client:
    clients/typescript/check

# Token verifications per second, with and without the cache (release build).
bench-jwt:
    cargo run --release -q -p adapters-jwt --example verify_bench

# Instructions per request of one scenario, counted by callgrind, for the API and for
# bench/reference: just profile list
profile scenario:
    bench/profile {{scenario}}
    bench/profile {{scenario}} reference

# System calls per request of one scenario, counted by strace, for the API and for
# bench/reference: just syscalls toggle
syscalls scenario:
    bench/syscalls {{scenario}}
    bench/syscalls {{scenario}} reference

# Ten minutes of the mixed load at half its peak rate; rate, p99 and RSS minute by minute.
soak:
    bench/soak

# Fuzz a fresh server from its OpenAPI document with schemathesis (fixed seed): just fuzz [examples]
fuzz examples="100":
    scripts/fuzz {{examples}}

# Browser tests: Better Auth issuing tokens, headless Chromium calling the API (installs chromium).
e2e:
    e2e/run

# Open the interactive API documentation of a running server.
docs:
    @url="http://${HOST:-127.0.0.1}:${PORT:-8000}/docs"; \
    if command -v xdg-open >/dev/null; then xdg-open "$url"; else echo "open $url in a browser (start the server with: just run)"; fi

# What CI runs.
ci:
    bash .ci/run
