#!/usr/bin/env bash
# Heap allocations per served request in a worker: fpm-testapp (release) with one worker and
# pm.max_requests = R, under bench/codec/malloc-counter.c (LD_PRELOAD), which writes the
# worker's allocation count when it leaves (_exit). Two runs (R1, R2 requests, from
# fcgibench) and the difference per request removes start-up and exit allocations.
#   bench/malloc-per-request.sh [BIN_DIR] [URI]     (BIN_DIR: release bin path with fpm-testapp, fcgibench)
# Prints allocations per request on kept connections and with one connection per request.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-$(swift build -c release --scratch-path "${BENCH_SCRATCH:-.build-bench}" --show-bin-path)}
URI=${2:-/pid}
FCGIBENCH=${FCGIBENCH:-$BIN/fcgibench}
PORT=${MALLOC_PORT:-19250}
R1=${MALLOC_R1:-200}
R2=${MALLOC_R2:-1200}
TMP=$(mktemp -d /tmp/perf-malloc.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
cc -O2 -shared -fPIC -o "$TMP/counter.so" bench/codec/malloc-counter.c

count_for() { # requests, extra fcgibench flags → the worker's allocation count
	local requests=$1; shift
	local dir="$TMP/run-$requests-$*"; dir=${dir// /_}
	mkdir -p "$dir/counts"
	cat >"$dir/fpm.conf" <<CONF
[global]
pid = $dir/fpm.pid
error_log = $dir/error.log
[www]
listen = 127.0.0.1:$PORT
pm = static
pm.max_children = 1
pm.max_requests = $requests
handler = testapp
ping.path = /ping
CONF
	MALLOC_COUNT_DIR="$dir/counts" LD_PRELOAD="$TMP/counter.so" SWIFT_FPM_RUNTIME_DIR="$dir" \
		"$BIN/fpm-testapp" -F -R -y "$dir/fpm.conf" 2>"$dir/stderr" &
	local master=$!
	for _ in $(seq 1 100); do grep -q "ready to handle" "$dir/error.log" 2>/dev/null && break; sleep 0.05; done
	local worker
	worker=$(pgrep -P "$master" | head -1)
	"$FCGIBENCH" "127.0.0.1:$PORT" -c 1 -n "$requests" --uri "$URI" --json "$@" >"$dir/bench.json"
	for _ in $(seq 1 100); do [ -s "$dir/counts/$worker" ] && break; sleep 0.05; done
	kill -TERM "$master"; wait "$master" 2>/dev/null || true
	cat "$dir/counts/$worker"
}

for mode in kept new; do
	flags=""
	[ $mode = new ] && flags="--new-connection"
	a=$(count_for "$R1" $flags)
	b=$(count_for "$R2" $flags)
	echo "mallocs per request ($mode connection, $URI): $(( (b - a) / (R2 - R1) )).$(( ((b - a) * 100 / (R2 - R1)) % 100 )) (worker totals: $a after $R1, $b after $R2)"
done
