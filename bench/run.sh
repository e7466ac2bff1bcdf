#!/usr/bin/env bash
# `make bench`: swift-fpm beside php-fpm 8.2 and a libfcgi C program, each behind its own nginx
# on 127.0.0.1, driven by wrk; then php-fpm's reload stall against swift-fpm's.
#
# This script installs what is missing, builds, and hands over to bench/bench.py, which owns
# every process it starts (stopped by pid) and its temp dir. Knobs (environment):
#   BENCH_SRC       the swift-fpm package to build and measure (default: this checkout)
#   BENCH_SCRATCH   swift build folder (default <BENCH_SRC>/.build-bench, so a shared .build is not disturbed)
#   BENCH_WORKERS   workers per backend (4)          BENCH_ROUNDS    rounds (3)
#   BENCH_DURATION  seconds per wrk run (10)         BENCH_WARMUP    warm-up seconds (2)
#   BENCH_CONNS     wrk connections (16)             BENCH_THREADS   wrk threads (2)
#   BENCH_CONN_LIST connections per scenario ("4 16") BENCH_TRANSPORTS "unix tcp" (each in turn)
#   BENCH_FCGIBENCH 0 skips the fcgibench runs (straight at each backend, no nginx)
#   BENCH_BIG       0 skips the /big?bytes=65536 scenario
#   BENCH_KEEPALIVE 0 skips the nginx upstream keepalive scenario
#   BENCH_STRACE    0 skips the syscalls-per-request measurement
#   BENCH_RELOAD    0 skips the reload comparison
#   BENCH_INSTRUCTIONS 0 skips the callgrind count of instructions per kept /pid request (needs valgrind)
#   BENCH_STATIC_STDLIB 1 links the Swift runtime into swift-fpm's binaries (as make install does)
# Results: a table on stdout and bench/out/<timestamp>/ (results.json, summary.txt, raw wrk output).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SWIFT=${SWIFT:-swift}
SRC=$(cd "${BENCH_SRC:-$ROOT}" && pwd)
# BENCH_STATIC_STDLIB=1 builds swift-fpm with the Swift runtime linked in (--static-swift-stdlib,
# as `make install` does), in its own scratch folder.
SWIFT_FLAGS=""
if [ "${BENCH_STATIC_STDLIB:-0}" != 0 ]; then SWIFT_FLAGS="--static-swift-stdlib"; fi
SCRATCH=${BENCH_SCRATCH:-$SRC/.build-bench${SWIFT_FLAGS:+-static}}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

# 1. Packages (Debian), only when missing.
missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v php-fpm8.2 >/dev/null 2>&1 || [ -x /usr/sbin/php-fpm8.2 ] || missing="$missing php8.2-fpm"
[ -f /usr/include/fcgiapp.h ] || missing="$missing libfcgi-dev"
command -v spawn-fcgi >/dev/null 2>&1 || missing="$missing spawn-fcgi"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
command -v cc >/dev/null 2>&1 || missing="$missing gcc libc6-dev"
if [ "${BENCH_STRACE:-1}" != 0 ]; then command -v strace >/dev/null 2>&1 || missing="$missing strace"; fi
if [ -n "$missing" ]; then
	echo "bench: installing:$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

OUT_ROOT="$ROOT/bench/out"
mkdir -p "$OUT_ROOT"

# 2. Builds: swift-fpm in release, the libfcgi program.
echo "bench: building swift-fpm in release ($SRC, scratch $SCRATCH)"
# fcgibench is the load generator, not the code measured: always this checkout's, so BENCH_SRC
# may name an older tree that has none.
build() { # package-dir scratch product [swift build flags]
	if ! (cd "$1" && $SWIFT build -c release ${4:-} --scratch-path "$2" --product "$3" >"$ROOT/bench/out/build-$3.log" 2>&1); then
		grep -E 'error:' "$ROOT/bench/out/build-$3.log" | head -20 >&2
		echo "bench: swift build -c release --product $3 in $1 failed (bench/out/build-$3.log)" >&2
		exit 1
	fi
}
for product in fpm-testapp fpm fpmctl; do build "$SRC" "$SCRATCH" "$product" "$SWIFT_FLAGS"; done
build "$ROOT" "$ROOT/.build-bench" fcgibench
BIN="$(cd "$SRC" && $SWIFT build -c release --scratch-path "$SCRATCH" --show-bin-path)"
FCGIBENCH="$(cd "$ROOT" && $SWIFT build -c release --scratch-path "$ROOT/.build-bench" --show-bin-path)/fcgibench"
[ -x "$BIN/fpm-testapp" ] || { echo "bench: $BIN/fpm-testapp was not built" >&2; exit 1; }

cc -O2 -Wall -o "$OUT_ROOT/libfcgi-hello" bench/libfcgi-hello.c -lfcgi

# 3. The run.
PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
exec "$PYTHON" bench/bench.py --bin "$BIN" --libfcgi "$OUT_ROOT/libfcgi-hello" --out "$OUT_ROOT" --fcgibench "$FCGIBENCH"
