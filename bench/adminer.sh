#!/usr/bin/env bash
# The "Moving from php-fpm" measurement: the same PHP application page (Adminer's login page,
# Debian package `adminer`) through one nginx to php-fpm 8.2 and to swift-fpm running php-cgi
# 8.2 in an exec pool, both `pm = static` with the same number of workers, in one run: wrk
# against each in turn, alternating, keep-alive between wrk and nginx, a new FastCGI
# connection per request between nginx and the backend (as Debian's nginx site does).
# Not part of `make test`.
#
#   bench/adminer.sh            knobs: ADMINER_WORKERS (4) ADMINER_ROUNDS (3) ADMINER_DURATION (10)
#                                      ADMINER_CONNS (16) ADMINER_THREADS (2) ADMINER_WARMUP (3)
# Prints req/s and p99 per round and backend, then the medians. Runs as root (php-fpm -R,
# fpm -R) or as a user who may bind the chosen loopback ports. Every process it starts is
# stopped by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORKERS=${ADMINER_WORKERS:-4}
ROUNDS=${ADMINER_ROUNDS:-3}
DURATION=${ADMINER_DURATION:-10}
CONNS=${ADMINER_CONNS:-16}
THREADS=${ADMINER_THREADS:-2}
WARMUP=${ADMINER_WARMUP:-3}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

need=""
command -v wrk >/dev/null || need="$need wrk"
[ -f /usr/share/adminer/adminer.php ] || need="$need adminer"
command -v php-fpm8.2 >/dev/null || need="$need php8.2-fpm"
command -v php-cgi8.2 >/dev/null || need="$need php8.2-cgi"
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need="$need nginx"
if [ -n "$need" ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

echo "building fpm (release) and its exec counter library..." >&2
swift build -c release --product fpm --scratch-path .build-release >&2
make --no-print-directory exec-counter DIR="$ROOT/.build-release/release" >&2
swift build -c release --product fpmctl --scratch-path .build-release >&2
FPM=$ROOT/.build-release/release/fpm

TMP=$(mktemp -d /tmp/adminer-bench.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
}
[ -n "${ADMINER_KEEP:-}" ] || trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PHPFPM_PORT=$(port); SWIFT_PORT=$(port)

cat >"$TMP/php-fpm.conf" <<EOF
[global]
pid = $TMP/php-fpm.pid
error_log = $TMP/php-fpm.log
[www]
listen = $TMP/php-fpm.sock
pm = static
pm.max_children = $WORKERS
EOF

cat >"$TMP/swift-fpm.conf" <<EOF
[global]
pid = $TMP/swift-fpm.pid
error_log = $TMP/swift-fpm.log
[www]
listen = $TMP/swift-fpm.sock
pm = static
pm.max_children = $WORKERS
exec = php-cgi8.2
EOF

cat >"$TMP/nginx.conf" <<EOF
$([ "$(id -u)" = 0 ] && echo "user root;")
worker_processes 1;
daemon off;
error_log $TMP/nginx-error.log warn;
pid $TMP/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $TMP/body; fastcgi_temp_path $TMP/fastcgi;
    proxy_temp_path $TMP/proxy; uwsgi_temp_path $TMP/uwsgi; scgi_temp_path $TMP/scgi;
    server {
        listen 127.0.0.1:$PHPFPM_PORT;
        root /usr/share/adminer;
        location ~ \.php\$ { include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name; fastcgi_pass unix:$TMP/php-fpm.sock; }
    }
    server {
        listen 127.0.0.1:$SWIFT_PORT;
        root /usr/share/adminer;
        location ~ \.php\$ { include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name; fastcgi_pass unix:$TMP/swift-fpm.sock; }
    }
}
EOF

php-fpm8.2 -F -R -y "$TMP/php-fpm.conf" >"$TMP/php-fpm.out" 2>&1 & PIDS+=($!)
SWIFT_FPM_RUNTIME_DIR=$TMP "$FPM" -F -R -y "$TMP/swift-fpm.conf" >"$TMP/swift-fpm.out" 2>&1 & PIDS+=($!)
SWIFT_MASTER=$!
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
"$NGINX" -p "$TMP" -c "$TMP/nginx.conf" >"$TMP/nginx.out" 2>&1 & PIDS+=($!)

for _ in $(seq 100); do
    [ -S "$TMP/php-fpm.sock" ] && [ -S "$TMP/swift-fpm.sock" ] && curl -fs -o /dev/null "http://127.0.0.1:$SWIFT_PORT/adminer.php" \
        && curl -fs -o /dev/null "http://127.0.0.1:$PHPFPM_PORT/adminer.php" && break
    sleep 0.1
done
for p in $PHPFPM_PORT $SWIFT_PORT; do
    code=$(curl -s -o "$TMP/page.html" -w '%{http_code}' "http://127.0.0.1:$p/adminer.php")
    grep -q 'name="auth\[username\]"' "$TMP/page.html" || { echo "port $p: not Adminer's login page (HTTP $code)" >&2; exit 1; }
done

# wrk's summary → "req/s p99_ms".
run() {
    wrk -t"$THREADS" -c"$CONNS" -d"$1"s --latency "http://127.0.0.1:$2/adminer.php" >"$TMP/wrk.out"
    python3 - "$TMP/wrk.out" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"\n\s+99%\s+([\d.]+)(us|ms|s)\n", text).groups()
p99 = float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
done = int(re.search(r"(\d+) requests in", text).group(1))
print(f"{rps:.1f} {p99:.2f} {errors.group(1) if errors else 0} {done}")
EOF
}

run "$WARMUP" "$PHPFPM_PORT" >/dev/null
run "$WARMUP" "$SWIFT_PORT" >/dev/null
FPMCTL=$ROOT/.build-release/release/fpmctl
accepted() { SWIFT_FPM_RUNTIME_DIR=$TMP "$FPMCTL" status --pid "$TMP/swift-fpm.pid" | awk -F: '/^accepted conn/ {gsub(/ /, "", $2); print $2}'; }
ACCEPTED_BEFORE=$(accepted)
SWIFT_DONE=0
echo "Adminer login page, nginx → backend (pm static $WORKERS), wrk -t$THREADS -c$CONNS -d${DURATION}s, keep-alive to nginx"
printf '%-6s %-26s %10s %10s %8s\n' round backend req/s p99_ms non2xx
declare -A RPS P99
for round in $(seq "$ROUNDS"); do
    for backend in php-fpm swift-fpm+php-cgi; do
        p=$PHPFPM_PORT; [ "$backend" = php-fpm ] || p=$SWIFT_PORT
        read -r rps p99 bad done < <(run "$DURATION" "$p")
        [ "$backend" = php-fpm ] || SWIFT_DONE=$((SWIFT_DONE + done))
        RPS[$backend]+="$rps "; P99[$backend]+="$p99 "
        printf '%-6s %-26s %10s %10s %8s\n' "$round" "$backend" "$rps" "$p99" "$bad"
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for backend in php-fpm swift-fpm+php-cgi; do
    printf 'median %-26s %10s %10s\n' "$backend" "$(echo "${RPS[$backend]}" | median)" "$(echo "${P99[$backend]}" | median)"
done
# The exec pool's own count (libFPMExecCounter.so) against wrk's: wrk does not count the
# requests still in flight when a run ends (at most -c per run), the pool does.
echo "swift-fpm accepted conn during the rounds: $(( $(accepted) - ACCEPTED_BEFORE )) (wrk completed $SWIFT_DONE)"
echo "php-cgi respawns during the run: $(grep -c ' started' "$TMP/swift-fpm.log" | awk -v w="$WORKERS" '{print $1 - w}')"
