#!/bin/sh
# Deploys examples/hello the documented way (README "Deploying your app"):
#   swift package fpm-install --product hello --prefix /usr --destdir DEST
# then checks the layout, starts the installed binary on its installed configuration (paths
# moved under DEST and a free port: nothing is written outside the temp folder), serves a
# request behind nginx, reloads it with the installed fpmctl, runs the logrotate snippet's
# postrotate with the master running and stopped, stops it, and has `systemd-analyze verify`
# check the generated units against DEST as the root (no systemd running needed).
#
#   scripts/test-deploy.sh      (make test-deploy; the release build is kept in
#                                examples/hello/.build/fpm-install, so a rerun takes seconds)
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
SWIFT=${SWIFT:-swift}
work=$(mktemp -d /tmp/swift-fpm-deploy.XXXXXX)
chmod 755 "$work"
dest=$work/dest
master=""
nginx_pid=""
cleanup() {
	[ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
	[ -z "$master" ] || kill -TERM "$master" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
fail=0
check() { # description, command...
	what=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
# wait_until SECONDS command...: polls the condition until it holds or the deadline passes.
wait_until() {
	deadline=$(($(date +%s) + $1)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
finish() {
	[ "$fail" = 0 ] && return
	for log in "$work/master.out" "$dest/var/log/hello/error.log" "$work/nginx/logs/error.log"; do
		[ -s "$log" ] && { echo "--- $log"; tail -20 "$log"; }
	done
	echo "test-deploy: FAILED"; exit 1
}

# 1. The documented command, timed.
started=$(date +%s)
$SWIFT package --package-path examples/hello fpm-install --product hello --prefix /usr --destdir "$dest"
echo "test-deploy: fpm-install took $(($(date +%s) - started)) s"

# 2. The layout.
for f in /usr/bin/hello /usr/bin/fpmctl; do check "$f is executable" test -x "$dest$f"; done
for f in /etc/hello/fpm.conf /etc/hello/pool.d/hello.conf /usr/lib/systemd/system/hello.service \
	/usr/lib/systemd/system/hello.socket /etc/logrotate.d/hello /usr/share/man/man1/hello.1; do
	check "$f exists" test -s "$dest$f"
done
check "/var/log/hello exists" test -d "$dest/var/log/hello"
check "the pool file is examples/hello/deploy's" cmp examples/hello/deploy/pool.d/hello.conf "$dest/etc/hello/pool.d/hello.conf"
check "hello does not load the toolchain's libswiftCore.so" sh -c "! ldd '$dest/usr/bin/hello' | grep -q libswiftCore"
unit=$dest/usr/lib/systemd/system
check "hello.service starts the installed hello" grep -qx 'ExecStart=/usr/bin/hello --nodaemonize --fpm-config /etc/hello/fpm.conf' "$unit/hello.service"
check "hello.service reloads through the installed fpmctl" grep -qx 'ExecReload=/usr/bin/fpmctl --fpm-config /etc/hello/fpm.conf reload' "$unit/hello.service"
check "hello.service is Type=notify and needs hello.socket" sh -c "grep -qx 'Type=notify' '$unit/hello.service' && grep -qx 'Requires=hello.socket' '$unit/hello.service'"
check "hello.socket listens on the pool's address" grep -qx 'ListenStream=127.0.0.1:9001' "$unit/hello.socket"
check "logrotate rotates the configured log folder" grep -q '^/var/log/hello/\*\.log {' "$dest/etc/logrotate.d/hello"
check "the main config logs there" grep -qx 'error_log = /var/log/hello/error.log' "$dest/etc/hello/fpm.conf"
man=$dest/usr/share/man/man1/hello.1
check "hello.1 is a man page for hello" grep -q '^\.Dt HELLO 1' "$man"
check "hello.1 lists the binary's options (from its own help)" grep -q '^\.It Fl y , Fl -fpm-config Ar fpm-config' "$man"
check "hello.1 names the installed configuration" grep -q '/etc/hello/fpm.conf' "$man"
check "hello.1 has no mandoc warning" mandoc -Tlint -W warning "$man"
finish

# 3. The installed configuration, moved under the temp folder: pid and logs, and a free port.
conf=$work/etc/hello
mkdir -p "$work/etc"
cp -R "$dest/etc/hello" "$conf"
port=$(free_port)
sed -i -e "s|^pid = .*|pid = $work/hello.pid|" -e "s|/var/log/hello|$dest/var/log/hello|g" "$conf/fpm.conf"
sed -i -e "s|^listen = .*|listen = 127.0.0.1:$port|" -e "s|/var/log/hello|$dest/var/log/hello|g" \
	-e "s|^env\[HELLO_GREETING\] = .*|env[HELLO_GREETING] = Deployed|" "$conf/pool.d/hello.conf"
# Not root: the pool cannot switch to www-data; run it as the current user.
[ "$(id -u)" = 0 ] || sed -i -e '/^user = /d' -e '/^group = /d' "$conf/pool.d/hello.conf"
chmod 755 "$dest/var/log/hello"
check "the installed configuration passes hello -t" "$dest/usr/bin/hello" -t -y "$conf/fpm.conf"
finish

"$dest/usr/bin/hello" -F -y "$conf/fpm.conf" >"$work/master.out" 2>&1 &
master=$!
ctl() { "$dest/usr/bin/fpmctl" --fpm-config "$conf/fpm.conf" "$@"; }
check "the installed hello starts and answers fpmctl ping" wait_until 20 ctl ping
check "its pid file names it" sh -c "[ \"\$(cat '$work/hello.pid')\" = $master ]"

# 4. nginx in front, on a free port.
nport=$(free_port)
mkdir -p "$work/nginx/tmp" "$work/nginx/logs"
{
	[ "$(id -u)" = 0 ] && echo "user root;"
	cat <<EOF
worker_processes 1;
daemon off;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    proxy_temp_path $work/nginx/tmp/proxy;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    server {
        listen 127.0.0.1:$nport;
        location / {
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_NAME \$uri;
            fastcgi_param SCRIPT_FILENAME \$uri;
            fastcgi_pass 127.0.0.1:$port;
        }
    }
}
EOF
} >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" &
nginx_pid=$!
get() { curl -fsS --max-time 10 "http://127.0.0.1:$nport$1"; }
check "nginx starts" wait_until 10 get /ping
check "hello answers through nginx, with the pool file's env[HELLO_GREETING]" sh -c "[ \"\$(curl -fsS --max-time 10 'http://127.0.0.1:$nport/hello?name=deploy')\" = 'Deployed, deploy!' ]"
check "the access log is written under the log folder" wait_until 5 test -s "$dest/var/log/hello/access.log"
# The app's middleware and route group, through nginx: the /api group's route answers JSON
# naming the request id that RequestIDMiddleware sends back as X-Request-Id (the caller's when
# it sent one), and a 404 outside every route carries one too.
headers=$work/api-headers.txt
body=$work/api-body.json
check "the /api group's route answers through nginx" sh -c "curl -fsS --max-time 10 -D '$headers' -o '$body' 'http://127.0.0.1:$nport/api/greetings/Ann' && grep -q '\"message\":\"Deployed, Ann!\"' '$body'"
check "RequestIDMiddleware's X-Request-Id is the id the route saw" sh -c "id=\$(tr -d '\\r' <'$headers' | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p'); [ -n \"\$id\" ] && grep -qF \"\\\"request\\\":\\\"\$id\\\"\" '$body'"
check "a caller's X-Request-Id comes back" sh -c "curl -sS --max-time 10 -D - -o /dev/null -H 'X-Request-Id: deploy-check-42' 'http://127.0.0.1:$nport/api/greetings/Ann' | tr -d '\\r' | grep -qi '^x-request-id: deploy-check-42\$'"
check "a 404 carries an X-Request-Id too" sh -c "curl -sS --max-time 10 -D - -o /dev/null 'http://127.0.0.1:$nport/nowhere' | tr -d '\\r' | grep -qi '^x-request-id: '"
finish

# 5. Reload through the installed fpmctl (hello.service's ExecReload): same master, new workers.
old_worker=$(get /json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' || true)
check "/json names the worker that served it ($old_worker)" test "${old_worker:-0}" -gt 0
check "fpmctl reload succeeds" ctl reload
check "the master is the same process" kill -0 "$master"
check "the old generation's worker $old_worker exits" wait_until 20 sh -c "! kill -0 $old_worker"
check "hello answers through nginx after the reload" sh -c "[ \"\$(curl -fsS --max-time 10 'http://127.0.0.1:$nport/hello?name=again')\" = 'Deployed, again!' ]"

# 6. The logrotate snippet: valid for logrotate; its postrotate reopens the logs of a running
# master and exits 0 when the master is stopped.
rotate=$work/logrotate.conf
sed -e "s|/var/log/hello|$dest/var/log/hello|g" -e "s|/run/hello.pid|$work/hello.pid|g" \
	-e "s|/usr/bin/fpmctl|$dest/usr/bin/fpmctl|g" -e "s|/etc/hello/fpm.conf|$conf/fpm.conf|g" \
	"$dest/etc/logrotate.d/hello" >"$rotate"
check "logrotate -d accepts the snippet" logrotate -d -s "$work/logrotate.state" "$rotate"
postrotate=$(sed -n '/postrotate/,/endscript/p' "$rotate" | sed '1d;$d')
check "postrotate reopens the running master's logs" sh -c "$postrotate"

# 7. Stop (hello.service's KillSignal=SIGQUIT: graceful).
check "fpmctl quit stops the master" ctl quit
status=0; wait "$master" || status=$?
master=""
check "the master exited 0 (status $status)" test "$status" = 0
check "postrotate exits 0 with the master stopped" sh -c "$postrotate"
finish

# 8. systemd-analyze verify, DEST as the root (ExecStart= binaries and man: pages are looked up
# there); the system's own units are copied beside ours so that sysinit.target and the like
# resolve. Any message fails the check, warnings included.
units=/usr/lib/systemd/system
[ -d "$units" ] || units=/lib/systemd/system
cp -Rn "$units/." "$unit/"
if MANPATH="$dest/usr/share/man" systemd-analyze verify --root="$dest" hello.service hello.socket >"$work/verify.out" 2>&1 \
	&& [ ! -s "$work/verify.out" ]; then
	echo "ok   systemd-analyze verify hello.service hello.socket"
else
	echo "FAIL systemd-analyze verify hello.service hello.socket:"; sed 's/^/     /' "$work/verify.out"; fail=1
fi
finish
echo "test-deploy: hello installed by fpm-install serves behind nginx, reloads, stops; its units verify"
