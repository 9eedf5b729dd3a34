# Shared by bench/run and bench/soak (sourced): the seeded database, the release server on
# it, and wrk runs of bench/scenario.lua.
source scripts/lib.sh

connections=${BENCH_CONNECTIONS:-32}
threads=$(( connections < 2 ? connections : 2 ))
pg_url=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
bench_url="${pg_url%/*}/todo_bench"
binary=$(cargo_binary release)
work="$(dirname "$(dirname "$binary")")/bench"
export PGOPTIONS="--client-min-messages=warning"
export APP_ENV=development RATE_LIMIT_RPS=0 RUST_LOG=warn LOG_FORMAT=json BETTER_AUTH_SECRET
unset BETTER_AUTH_JWKS_URL BETTER_AUTH_ISSUER BETTER_AUTH_AUDIENCE
BETTER_AUTH_SECRET=$(random_secret)
mkdir -p "$work"

command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
command -v pgbench >/dev/null || apt-get install -y -qq postgresql-client >/dev/null
trap 'stop_server' EXIT

# Seeds todo_bench with 1,000 users x 50 tasks (5 of them subtasks), writes a token per user, and starts the
# server on it with a pool of BENCH_POOL (default 10) connections.
seed_and_serve() {
    echo "seeding todo_bench: 1,000 users x 50 tasks"
    psql -q "$pg_url" -c "DROP DATABASE IF EXISTS todo_bench" -c "CREATE DATABASE todo_bench"
    export DATABASE_URL="$bench_url"
    RUST_LOG=error "$binary" migrate up >/dev/null
    psql -q "$bench_url" -f bench/seed.sql
    for n in $(seq 1 1000); do
        printf '%s %s\n' "$n" "$("$binary" token --sub "u$n" --ttl 7200)"
    done >"$work/tokens.txt"
    export DB_MAX_CONNECTIONS=${BENCH_POOL:-10}
    start_server "$binary" "$work/server.log"
}

# Builds the reference server (bench/reference, a workspace of its own) in release and prints
# its path.
reference_binary() {
    cargo build -q --release --manifest-path bench/reference/Cargo.toml >&2
    echo "$PWD/bench/reference/target/release/todo-reference"
}

# cpu_ticks PID...: user + system clock ticks used so far by these processes.
cpu_ticks() {
    cat $(printf '/proc/%s/stat ' "$@") 2>/dev/null | awk '{ t += $14 + $15 } END { print t + 0 }'
}

# The server's resident memory now, in KiB.
rss_kb() {
    awk '/VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"
}

# run_wrk SCENARIO SECONDS [PAUSE_MS]: one wrk run (each connection pausing PAUSE_MS between
# requests when given); sets r_rps, r_p50_ms, r_p99_ms, r_p999_ms, r_max_ms, r_errors,
# r_requests.
run_wrk() {
    local script=bench/scenario.lua
    [ -n "${3:-}" ] && script=bench/paced.lua
    # Each user's cursor stands before their ten latest changes (tombstones included), so that
    # the changes scenario reads pages of ten whatever ran before it; 0 (all of it) for a user
    # with fewer.
    psql -At -F' ' "$bench_url" -c "
        WITH numbers AS (
            SELECT owner, changed_seq AS seq FROM tasks
            UNION ALL SELECT owner, seq FROM changes WHERE op = 2),
        cursors AS (
            SELECT owner, seq FROM (
                SELECT owner, seq, row_number() OVER (PARTITION BY owner ORDER BY seq DESC) AS r
                FROM numbers) AS ranked
            WHERE r = 11)
        SELECT substr(t.owner, 2), t.id, t.version, COALESCE(c.seq, 0)
        FROM tasks t LEFT JOIN cursors c ON c.owner = t.owner
        WHERE t.title <> 'Bench task' AND t.parent_id IS NULL AND t.subtask_count = 0" \
        >"$work/tasks.txt"
    local output result
    output=$(wrk -t"$threads" -c"$connections" -d"${2}s" --latency -s "$script" "$BASE_URL" \
        -- "$1" "$work/tokens.txt" "$work/tasks.txt" "$threads" "${3:-}" 2>&1)
    result=$(echo "$output" | grep '^RESULT') || { echo "wrk failed on $1:" >&2; echo "$output" >&2; return 1; }
    eval "$(echo "$result" | sed 's/^RESULT //' | tr ' ' '\n' | sed 's/^/r_/')"
}

# Created tasks are removed after each run, so that every run sees the seeded 50 per user;
# then a checkpoint writes out what the run dirtied. Without it PostgreSQL's own checkpoints
# (every 5 minutes, after a write scenario back to back) land in whichever run is going, and
# their writes and fsyncs stall it for hundreds of milliseconds: p99 measured the clock, not
# the server. A checkpoint also restarts the 5 minutes, so none begins during a run. (A role
# that may not run one, as on a managed server, gets a note and runs without.)
forget_created() {
    psql -q "$bench_url" -c "DELETE FROM tasks WHERE title = 'Bench task'" -c "VACUUM ANALYZE tasks, task_tags"
    if [ -z "${no_checkpoint:-}" ] && ! psql -q "$bench_url" -c CHECKPOINT 2>/dev/null; then
        no_checkpoint=1
        echo "note: CHECKPOINT refused to this role; PostgreSQL's own checkpoints may stall runs" >&2
    fi
}

# One line on the machine and the load, for the tables.
describe_run() {
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), wrk $connections connections / $threads threads, pool $DB_MAX_CONNECTIONS; server, PostgreSQL and wrk share the cores"
}
