#!/bin/sh
# `make bench-jobs`: the job-pool benchmark (bench/jobs.py says what it measures). Builds
# examples/redis-sync in release (its own scratch folder) and bench/jobs-floor.c, then runs the driver.
#   BENCH_JOBS=N (20000)  BENCH_JOBS_WORKERS=N (3)  BENCH_ROUNDS=N (3)
set -eu
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
pkg=examples/redis-sync
$SWIFT build -c release --package-path $pkg --scratch-path $pkg/.build-release --product redis-sync
bin="$($SWIFT build -c release --package-path $pkg --scratch-path $pkg/.build-release --show-bin-path)/redis-sync"
# The floor (bench/jobs-floor.c, libgearman and a bare RESP socket): built when libgearman-dev is.
floor=""
if [ -f /usr/include/libgearman-1.0/gearman.h ]; then
    floor="$pkg/.build-release/jobs-floor"
    ${CC:-cc} -O2 -o "$floor" bench/jobs-floor.c -lgearman
fi
exec python3 bench/jobs.py --binary "$bin" ${floor:+--floor "$floor"}
