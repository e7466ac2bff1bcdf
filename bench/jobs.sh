#!/bin/sh
# `make bench-jobs`: the job-pool benchmark (bench/jobs.py says what it measures). Builds
# examples/redis-sync in release (its own scratch folder), then runs the driver.
#   BENCH_JOBS=N (20000)  BENCH_JOBS_WORKERS=N (3)  BENCH_ROUNDS=N (3)
set -eu
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
pkg=examples/redis-sync
$SWIFT build -c release --package-path $pkg --scratch-path $pkg/.build-release --product redis-sync
bin="$($SWIFT build -c release --package-path $pkg --scratch-path $pkg/.build-release --show-bin-path)/redis-sync"
exec python3 bench/jobs.py --binary "$bin"
