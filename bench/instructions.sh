#!/bin/sh
# Instructions per request in one worker, which unlike req/s do not move with the machine's
# load: `fpm-testapp` built in release, one static worker run under callgrind, N requests over
# one kept connection from fcgibench; the worker's total instructions (start-up included) / N.
#
#   bench/instructions.sh [URI …]        (default: /pid; N=${N:-20000}; KEEP=DIR keeps the files)
#
# Needs valgrind. Prints one line per URI: `URI  instructions/request  (total, requests)`.
# BIN=DIR: take fpm-testapp and fcgibench from there instead of building (bench/run.sh does).
# LIBFCGI=PROGRAM: then the same N kept requests to that libfcgi program (bench/libfcgi-hello.c,
# started by spawn-fcgi on fd 0), counted the same way: a line `libfcgi URI  instructions/request …`.
set -eu
cd "$(dirname "$0")/.."
N=${N:-20000}
[ $# -gt 0 ] || set -- /pid
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 2; }
if [ -n "${BIN:-}" ]; then
    bin=$BIN
else
    swift build -c release --product fpm-testapp >/dev/null
    swift build -c release --product fcgibench >/dev/null
    bin=$(swift build -c release --show-bin-path)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 some toolchains emit: count on a stripped copy.
cp "$bin/fpm-testapp" "$work/fpm-testapp"
strip --strip-debug "$work/fpm-testapp" 2>/dev/null || true
for uri in "$@"; do
    cat > "$work/fpm.conf" <<CONF
[global]
error_log = $work/error.log
daemonize = no
[www]
listen = $work/sock
pm = static
pm.max_children = 1
handler = testapp
CONF
    rm -f "$work"/callgrind.* "$work/sock"
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$work/callgrind.%p" \
        "$work/fpm-testapp" -y "$work/fpm.conf" -F -O -R >"$work/valgrind.log" 2>&1 &
    master=$!
    i=0
    while [ ! -S "$work/sock" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    # The worker is ready once it answers.
    i=0
    until "$bin/fcgibench" "$work/sock" -c 1 -n 1 --uri "$uri" --timeout 5 >/dev/null 2>&1 || [ $i -ge 60 ]; do sleep 0.5; i=$((i + 1)); done
    "$bin/fcgibench" "$work/sock" -c 1 -n "$N" --uri "$uri" --timeout 60 >"$work/bench.txt"
    kill -QUIT "$master"
    wait "$master" || true
    # The worker's file: the one whose command was not the master's (the largest that is not the master's pid).
    worker=$(ls "$work"/callgrind.* | grep -v "callgrind.$master\$" | while read -r f; do
        printf '%s %s\n' "$(grep -m1 -E '^(summary|totals):' "$f" | awk '{print $2}')" "$f"; done | sort -n | tail -1)
    total=${worker%% *}
    echo "$uri  $((total / (N + 1)))/request  ($total instructions, $((N + 1)) requests)"
    # KEEP=DIR: keep the worker's callgrind file there, for callgrind_annotate.
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp "${worker#* }" "$KEEP/callgrind.$(echo "$uri" | tr -c 'A-Za-z0-9\n' '_')"; fi
done
[ -n "${LIBFCGI:-}" ] || exit 0
command -v spawn-fcgi >/dev/null || { echo "instructions.sh: spawn-fcgi is not installed" >&2; exit 2; }
for uri in "$@"; do
    rm -f "$work"/callgrind.* "$work/sock"
    # -n: spawn-fcgi execs valgrind in place, the program finds its listener on fd 0.
    spawn-fcgi -n -s "$work/sock" -- "$(command -v valgrind)" --tool=callgrind \
        --callgrind-out-file="$work/callgrind.libfcgi" "$LIBFCGI" >"$work/valgrind.log" 2>&1 &
    program=$!
    i=0
    while [ ! -S "$work/sock" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    "$bin/fcgibench" "$work/sock" -c 1 -n "$N" --uri "$uri" --timeout 60 >"$work/bench.txt"
    # No readiness probe: spawn-fcgi binds the socket before valgrind starts, so these N are all
    # the requests it serves. SIGTERM ends it; callgrind writes its file on the way out.
    kill -TERM "$program"
    wait "$program" || true
    total=$(grep -m1 -E '^(summary|totals):' "$work/callgrind.libfcgi" | awk '{print $2}')
    echo "libfcgi $uri  $((total / N))/request  ($total instructions, $N requests)"
    if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp "$work/callgrind.libfcgi" "$KEEP/callgrind.libfcgi.$(echo "$uri" | tr -c 'A-Za-z0-9\n' '_')"; fi
done
