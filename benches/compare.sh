#!/usr/bin/env bash
# Whole-process comparisons for docs/performance.md (issue 6, benchmarks 1-3):
# builds release, generates a nginx combined log of $SIZE (default 1G) into $BENCH_DIR (default:
# a temp dir, removed afterwards), then times logsleuth against awk|sort|uniq -c and grep on the
# same file, in one run, and prints a table. Peak RSS comes from /usr/bin/time; the private
# (anonymous) part of it is sampled from /proc/PID/status.
#
#   benches/compare.sh                 # 1 GiB
#   SIZE=100M RUNS=1 benches/compare.sh
#   SIZE=10G RUNS=1 BENCH_DIR=/big benches/compare.sh   # ten times larger (issue 15)
#
# lnav (apt-get install lnav) and angle-grinder (cargo install ag) run beside awk and grep when
# they are installed, once each (SLOW_RUNS), with their status counts checked against awk's.
#
# Each command runs RUNS times (default 3) after one warm-up read of the file into the page
# cache; the table shows the best run (least disturbed by other load). Ratios are within this run.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=${SIZE:-1G}
RUNS=${RUNS:-3}
export LC_ALL=C   # the classic pipeline at its fastest (byte comparisons)

if [[ ! -x /usr/bin/time ]]; then
    echo "compare.sh: /usr/bin/time is missing (apt-get install time)" >&2
    exit 1
fi

cargo build --release --quiet --bin logsleuth --example gen_access_log
BIN=target/release/logsleuth
GEN=target/release/examples/gen_access_log

if [[ -n "${BENCH_DIR:-}" ]]; then
    mkdir -p "$BENCH_DIR"
    DIR=$BENCH_DIR
else
    DIR=$(mktemp -d)
    trap 'rm -rf "$DIR"' EXIT
fi
LOG=$DIR/access-$SIZE.log
[[ -s $LOG ]] || "$GEN" "$SIZE" "$LOG"
BYTES=$(stat -c %s "$LOG")
MB=$(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1048576 }')
cat "$LOG" > /dev/null   # warm the page cache: every command reads from memory

# best_of NAME CMD...: runs CMD RUNS times; records the best wall seconds, that run's CPU
# seconds (user + system, of every process of the pipeline) and its peak RSS (KiB).
declare -A WALL RSS CPU
best_of() {
    local name=$1; shift
    local best="" rss=0 cpu=0 i runs=$RUNS
    # The slow tools once (lnav takes minutes on a large file).
    [[ $name == lnav* || $name == agrind* ]] && runs=${SLOW_RUNS:-1}
    for ((i = 0; i < runs; i++)); do
        /usr/bin/time -f '%e %M %U %S' -o "$DIR/time.txt" bash -c "$*" > "$DIR/out-$name.txt"
        read -r secs kib user sys < "$DIR/time.txt"
        if [[ -z $best ]] || awk -v a="$secs" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$secs
            rss=$kib
            cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
        fi
    done
    WALL[$name]=$best
    RSS[$name]=$rss
    CPU[$name]=$cpu
}

best_of top_status    "$BIN top --field status --output json '$LOG'"
best_of top_agent     "$BIN top --field http_user_agent --output json '$LOG'"
best_of awk_pipeline  "awk '{print \$9}' '$LOG' | sort | uniq -c"
best_of grep_500      "grep -c ' 500 ' '$LOG'"
best_of query_kql     "$BIN query --kql 'status >= 500 and method:POST' --output raw --limit 100000000 '$LOG'"
best_of grep_regex    "grep -E '\"POST [^\"]*\" 5[0-9][0-9] ' '$LOG'"
# Log tools side by side (issue 15), when installed: lnav (Debian's package) counting statuses
# in its SQL view, angle-grinder (`cargo install ag`, the `agrind` binary) parsing and counting.
TOOLS=(top_status top_agent awk_pipeline grep_500 query_kql grep_regex)
if command -v lnav > /dev/null; then
    best_of lnav_status "lnav -n -c ';SELECT sc_status, count(*) AS n FROM access_log GROUP BY sc_status' -c ':write-csv-to -' '$LOG'"
    TOOLS+=(lnav_status)
fi
if command -v agrind > /dev/null; then
    best_of agrind_status "agrind -f '$LOG' '* | parse \"* * * [*] \\\"*\\\" * *\" as ip, ident, user, time, request, status, bytes | count by status'"
    TOOLS+=(agrind_status)
fi

# peak_anon CMD...: peak anonymous (private, heap) RSS in KiB of CMD, sampled every 10 ms from
# /proc. /usr/bin/time's peak RSS also counts the pages of the memory-mapped file that were
# read, which are page cache shared with every other reader, not memory logsleuth allocated.
peak_anon() {
    "$@" > /dev/null &
    local pid=$! peak=0 kib
    while kill -0 "$pid" 2> /dev/null; do
        kib=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2> /dev/null || true)
        [[ -n $kib && $kib -gt $peak ]] && peak=$kib
        sleep 0.01
    done
    wait "$pid" || true
    echo "$peak"
}
# `top` and `query` scan the file once without an index; `histogram` builds the index the
# explorer browses (20 bytes a line), so its private memory is the browsing figure.
ANON_INDEX=$(peak_anon "$BIN" histogram --output json "$LOG")
ANON_TOP=$(peak_anon "$BIN" top --field status --output json "$LOG")
ANON_QUERY=$(peak_anon "$BIN" query --kql 'status >= 500 and method:POST' --output raw --limit 100000000 "$LOG")

# Same answers? (counts of the filter, and of status 500)
KQL_LINES=$(wc -l < "$DIR/out-query_kql.txt")
GREP_LINES=$(wc -l < "$DIR/out-grep_regex.txt")
AWK_500=$(awk '$2 == "500" { print $1 }' "$DIR/out-awk_pipeline.txt")
LS_500=$(grep -o '"value":"500","count":[0-9]*' "$DIR/out-top_status.txt" | grep -o '[0-9]*$' || true)

mbps() { awk -v mb="$MB" -v s="$1" 'BEGIN { printf "%.0f", (s > 0 ? mb / s : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }

echo
echo "input: $LOG, $MB MiB, $(wc -l < "$LOG") lines; machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB RAM"
echo "best of $RUNS runs, file in page cache, LC_ALL=C"
echo
printf '%-14s %9s %9s %8s %12s\n' command seconds 'CPU s' MiB/s 'peak RSS MiB'
for name in "${TOOLS[@]}"; do
    printf '%-14s %9s %9s %8s %12s\n' "$name" "${WALL[$name]}" "${CPU[$name]}" "$(mbps "${WALL[$name]}")" \
        "$(awk -v k="${RSS[$name]}" 'BEGIN { printf "%.0f", k / 1024 }')"
done
echo
echo "ratios (target in brackets):"
echo "  awk pipeline / top --field status       = $(ratio "${WALL[awk_pipeline]}" "${WALL[top_status]}")x faster   [>= 5]"
echo "  awk pipeline / top --field user agent   = $(ratio "${WALL[awk_pipeline]}" "${WALL[top_agent]}")x faster   [>= 5]"
echo "  awk pipeline CPU / top status CPU       = $(ratio "${CPU[awk_pipeline]}" "${CPU[top_status]}")x less CPU   [>= 5]"
echo "  top status throughput                   = $(awk -v b="$BYTES" -v s="${WALL[top_status]}" 'BEGIN { printf "%.2f", (s > 0 ? b / s / 1e9 : 0) }') GB/s   [>= 2]"
for t in lnav_status agrind_status; do
    [[ -n ${WALL[$t]:-} ]] && printf '  %-39s = %sx slower, %sx the CPU\n' "$t / top --field status" "$(ratio "${WALL[$t]}" "${WALL[top_status]}")" "$(ratio "${CPU[$t]}" "${CPU[top_status]}")"
done
echo "  top status throughput / grep -c         = $(ratio "${WALL[grep_500]}" "${WALL[top_status]}")            [>= 0.33]"
echo "  query --kql throughput / grep -E        = $(ratio "${WALL[grep_regex]}" "${WALL[query_kql]}")            [>= 0.5]"
echo "  peak RSS of top / file size             = $(awk -v k="${RSS[top_status]}" -v b="$BYTES" 'BEGIN { printf "%.2f", k * 1024 / b }')            (mapped file pages included)"
echo "  peak RssAnon of the index / file size   = $(awk -v k="$ANON_INDEX" -v b="$BYTES" 'BEGIN { printf "%.2f", k * 1024 / b }')            [<= 0.30]  (histogram: indexes the whole file)"
echo "  peak RssAnon of top / file size         = $(awk -v k="$ANON_TOP" -v b="$BYTES" 'BEGIN { printf "%.2f", k * 1024 / b }')            [<= 0.30]"
echo "  peak RssAnon of query / file size       = $(awk -v k="$ANON_QUERY" -v b="$BYTES" 'BEGIN { printf "%.2f", k * 1024 / b }')            [<= 0.30]"
echo
LNAV_500=$( [[ -f $DIR/out-lnav_status.txt ]] && awk -F, '$1 == "500" { print $2 }' "$DIR/out-lnav_status.txt" || true)
AG_500=$( [[ -f $DIR/out-agrind_status.txt ]] && awk '$1 == "500" { print $2 }' "$DIR/out-agrind_status.txt" || true)
echo "checks: query lines $KQL_LINES vs grep lines $GREP_LINES; status 500: awk $AWK_500, logsleuth ${LS_500:-?}, lnav ${LNAV_500:--}, agrind ${AG_500:--}"
same=yes
for v in "$LS_500" "${LNAV_500:-$AWK_500}" "${AG_500:-$AWK_500}"; do [[ $v == "$AWK_500" ]] || same=no; done
[[ $KQL_LINES == "$GREP_LINES" ]] || same=no
echo "answers equal: $same"
