#!/usr/bin/env bash
# Endless input (issue 21): feeds `logsleuth tail` for $SECONDS_RUN seconds (default 60) at the
# fastest rate examples/gen_access_log.rs produces, once through stdin and once through a
# followed file, samples the process's private (anonymous) memory every 0.2 s from
# /proc/PID/status (RssAnon; the stdin spool's tmpfs pages are RssShmem when mapped and are
# counted separately) and prints the peak against the data received.
#
#   benches/endless_input.sh                       # debug build, 60 s each, default budget
#   PROFILE=release MAX_MEMORY=256M benches/endless_input.sh
#   BENCH_DIR=/big/disk benches/endless_input.sh    # where the followed file goes (default $TMPDIR or /tmp)
#
# Data received: for stdin, the bytes logsleuth read (rchar of /proc/PID/io, less what it read
# before the data came); for the file, its size at the end. docs/performance.md has the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN=${SECONDS_RUN:-60}
PROFILE=${PROFILE:-debug}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target}
if [[ $PROFILE == release ]]; then
    cargo build --release --quiet --bin logsleuth --example gen_access_log
else
    cargo build --quiet --bin logsleuth --example gen_access_log
fi
BIN=$CARGO_TARGET_DIR/$PROFILE/logsleuth
GEN=$CARGO_TARGET_DIR/$PROFILE/examples/gen_access_log
# The followed file grows by up to ~6 GiB a minute: BENCH_DIR puts it where there is room.
DIR=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/endless_input.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
df -h "$DIR" | tail -1 | awk '{print "bench files in " $6 ": " $4 " free"}'

ARGS=()
if [[ -n "${MAX_MEMORY:-}" ]]; then ARGS=(--max-memory "$MAX_MEMORY"); fi

# Prints "peak_anon_kib peak_shmem_kib" of PID until it ends.
sample() {
    local pid=$1 peak=0 shm=0 a s
    while [[ -e /proc/$pid/status ]]; do
        a=$(awk '/^RssAnon:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        s=$(awk '/^RssShmem:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [[ -n $a && $a -gt $peak ]] && peak=$a
        [[ -n $s && $s -gt $shm ]] && shm=$s
        if [[ -r /proc/$pid/io ]]; then awk '/^rchar:/ {print $2}' "/proc/$pid/io" > "$DIR/rchar.$pid" 2>/dev/null || true; fi
        sleep 0.2
    done
    echo "$peak $shm"
}

report() {
    local what=$1 peak=$2 shm=$3 bytes=$4
    awk -v w="$what" -v p="$peak" -v s="$shm" -v b="$bytes" 'BEGIN {
        mib = b / 1048576; printf "%-14s %10.0f MiB received  peak private %7.1f MiB  (%.3f of the data)  spool mapped %7.1f MiB\n", w, mib, p / 1024, (p * 1024) / (b > 0 ? b : 1), s / 1024 }'
}

echo "budget: ${MAX_MEMORY:-default (10% of $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo))}; $PROFILE build; ${SECONDS_RUN}s each"

# 1. stdin
mkfifo "$DIR/fifo"
"$BIN" tail - --output raw "${ARGS[@]}" < "$DIR/fifo" > /dev/null &
LS=$!
sample "$LS" > "$DIR/peak.stdin" &
SAMPLER=$!
timeout "$SECONDS_RUN" "$GEN" 1000G /dev/stdout > "$DIR/fifo" || true
# The generator ended: logsleuth sees the end of its input and exits.
wait "$LS" || true
wait "$SAMPLER" || true
read -r peak shm < "$DIR/peak.stdin"
report stdin "$peak" "$shm" "$(cat "$DIR/rchar.$LS" 2>/dev/null || echo 0)"

# 2. a followed file
: > "$DIR/access.log"
"$BIN" tail "$DIR/access.log" --output raw "${ARGS[@]}" > /dev/null &
LS=$!
sample "$LS" > "$DIR/peak" &
SAMPLER=$!
timeout "$SECONDS_RUN" "$GEN" 1000G "$DIR/access.log" || true
# Let it read what is there, then stop it.
sleep 5
kill "$LS" 2>/dev/null || true
wait "$LS" 2>/dev/null || true
wait "$SAMPLER" || true
read -r peak shm < "$DIR/peak"
report "followed file" "$peak" "$shm" "$(stat -c %s "$DIR/access.log")"
