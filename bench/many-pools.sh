#!/usr/bin/env bash
# Many pools: how long `-t`, a start and a reload (SIGUSR2 until the new generation serves) take
# with N pools, and how many descriptors the master holds; swift-fpm beside php-fpm 8.2 on the
# same N pools (each on its own unix socket in a temp dir, pm = ondemand, max_children 1, so no
# worker is forked and both masters do the same work).
#
#   bench/many-pools.sh [N] [ROUNDS]     (defaults 5000 and 1; `make bench-pools` builds and runs it)
#   FPM=path/to/fpm (default .build/release/fpm), PHPFPM=php-fpm8.2 (PHPFPM= skips it)
#   BASE=/dev/shm: where the temp dir (sockets, scoreboards, logs) goes. A tmpfs, as /run is in
#   production: on ext4, creating thousands of socket inodes right after deleting thousands
#   (the previous run's) costs seconds in the kernel's inode allocator, for both servers.
#
# Every process it starts is stopped by its pid; the temp dir is removed at the end.
set -euo pipefail

N=${1:-5000}
ROUNDS=${2:-1}
cd "$(dirname "$0")/.."
FPM=${FPM:-$PWD/.build/release/fpm}
PHPFPM=${PHPFPM-php-fpm8.2}
[ -x "$FPM" ] || { echo "many-pools: no fpm binary at $FPM (swift build -c release --product fpm, or FPM=...)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)"

DIR=$(mktemp -d "${BASE:-/dev/shm}/many-pools.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$DIR"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }
# wait_for FILE TEXT COUNT: until TEXT occurs COUNT times in FILE (at most 120 s).
wait_for() {
	local deadline=$(( $(date +%s) + 120 ))
	while [ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -lt "$3" ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "many-pools: timed out waiting for '$2' in $1" >&2; tail -5 "$1" >&2; return 1; }
		sleep 0.01
	done
}

gen() { # flavour file
	local flavour=$1 file=$2
	{
		echo "[global]"
		echo "pid = $DIR/$flavour.pid"
		echo "error_log = $DIR/$flavour.log"
		[ "$flavour" = php ] && echo "daemonize = no"
		for i in $(seq 1 "$N"); do
			echo "[p$i]"
			echo "listen = $DIR/$flavour-s/p$i.sock"
			echo "pm = ondemand"
			echo "pm.max_children = 1"
			if [ "$flavour" = php ]; then echo "user = nobody"; else echo "handler = info"; fi
		done
	} >"$file"
	mkdir -p "$DIR/$flavour-s"
}

measure() { # flavour binary
	local flavour=$1 bin=$2 conf=$DIR/$1.conf log=$DIR/$1.log t0 t1 pid
	gen "$flavour" "$conf"
	t0=$(now); "$bin" -R -t -y "$conf" >/dev/null 2>&1 || { echo "many-pools: $flavour -t failed" >&2; "$bin" -R -t -y "$conf" 2>&1 | head -5 >&2; return 1; }; t1=$(now)
	local test_s; test_s=$(elapsed "$t0" "$t1")
	: >"$log"
	t0=$(now)
	SWIFT_FPM_RUNTIME_DIR=$DIR "$bin" -F -R -y "$conf" >/dev/null 2>&1 &
	pid=$!; PIDS+=("$pid")
	wait_for "$log" "ready to handle connections" 1; t1=$(now)
	local start_s; start_s=$(elapsed "$t0" "$t1")
	local fds; fds=$(ls /proc/"$pid"/fd | wc -l)
	local before; before=$(grep -c "ready to handle connections\|is serving" "$log" || true)
	t0=$(now)
	kill -USR2 "$pid"
	if [ "$flavour" = php ]; then
		wait_for "$log" "ready to handle connections" 2
	else
		wait_for "$log" "generation 2 is serving" 1
	fi
	t1=$(now)
	local reload_s; reload_s=$(elapsed "$t0" "$t1")
	# The new generation answers on the last pool.
	local answer=""
	if command -v cgi-fcgi >/dev/null; then
		answer=$(REQUEST_METHOD=GET SCRIPT_FILENAME=/dev/null SCRIPT_NAME=/ REQUEST_URI=/ timeout 10 cgi-fcgi -bind -connect "$DIR/$flavour-s/p$N.sock" 2>/dev/null | head -1 | tr -d '\r' || true)
	fi
	local fds_after; fds_after=$(ls /proc/"$pid"/fd | wc -l)
	kill -TERM "$pid"
	for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	printf '%-9s N=%d  -t %6.2f s  start %6.2f s  reload %6.2f s  master fds %d (after reload %d)  last pool: %s\n' \
		"$flavour" "$N" "$test_s" "$start_s" "$reload_s" "$fds" "$fds_after" "${answer:-?}"
}

for _ in $(seq "$ROUNDS"); do
	measure swift "$FPM"
	if [ -n "$PHPFPM" ]; then measure php "$(command -v "$PHPFPM")"; fi
done
