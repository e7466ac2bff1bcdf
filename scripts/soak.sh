#!/usr/bin/env bash
# The soak (issue 9; figures in docs/RELIABILITY.md): one million requests through nginx into a
# swift-fpm pool of 4, without and with upstream keep-alive; worker RSS and descriptors at the
# start and the end, and the error count. Not part of `make test` (about 4 minutes with the
# release build): `make soak` or scripts/soak.sh.
#
# Knobs (environment): SOAK_REQUESTS (1000000 per mode), SOAK_WORKERS (4), SOAK_MODES
# (plain,keepalive), SOAK_CHUNK (seconds per wrk run, 10), SOAK_CONNS (16), SOAK_THREADS (2),
# SOAK_SCRATCH (release build folder, default .build-bench like bench/run.sh).
# Exit status: 0 when every mode reached its count with 0 errors.
set -euo pipefail

cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}
SCRATCH=${SOAK_SCRATCH:-$PWD/.build-bench}
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
if [ -n "$missing" ]; then
	echo "soak: installing:$missing"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

mkdir -p bench/out
echo "soak: building fpm-testapp in release (scratch $SCRATCH)"
if ! $SWIFT build -c release --scratch-path "$SCRATCH" --product fpm-testapp >bench/out/build-soak.log 2>&1; then
	grep -E 'error:' bench/out/build-soak.log | head -20 >&2
	echo "soak: release build failed (bench/out/build-soak.log)" >&2
	exit 1
fi
BIN="$($SWIFT build -c release --scratch-path "$SCRATCH" --show-bin-path)"

PYTHON=python3
[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
exec "$PYTHON" bench/soak.py --bin "$BIN" --out bench/out
