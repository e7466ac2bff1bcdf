#!/bin/sh
# Checks what `make install DESTDIR=DIR PREFIX=PREFIX` laid out (mk/install.mk): the binaries
# run and agree on the version, the man pages are man pages, the installed configuration
# passes `fpm -t` and names its pid file under /run, the units and the logrotate snippet
# point at the installed binaries.
#
#   scripts/check-install.sh DESTDIR PREFIX

set -eu
dest=$1
prefix=$2
fail=0
check() { # description, command...
	what=$1; shift
	if "$@" >/dev/null 2>&1; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}

for f in "$prefix/bin/fpm" "$prefix/bin/fpmctl"; do check "$f is executable" test -x "$dest$f"; done
check "the exec pools' request counter is installed where fpm looks" test -s "$dest$prefix/lib/swift-fpm/libFPMExecCounter.so"
for f in "$prefix/share/man/man1/fpm.1" "$prefix/share/man/man1/fpmctl.1" \
	/etc/swift-fpm/fpm.conf /etc/swift-fpm/pool.d/www.conf \
	"$prefix/lib/systemd/system/swift-fpm.service" "$prefix/lib/systemd/system/swift-fpm.socket" \
	/etc/logrotate.d/swift-fpm; do
	check "$f exists" test -s "$dest$f"
done
fpm_version=$("$dest$prefix/bin/fpm" --version 2>&1 || true)
ctl_version=$("$dest$prefix/bin/fpmctl" --version 2>&1 || true)
version=$(echo "$fpm_version" | sed -n 's/^swift-fpm \([0-9][^ ]*\).*/\1/p')
check "fpm --version names a version ($fpm_version)" test -n "$version"
check "fpmctl --version is the same ($ctl_version)" test "$ctl_version" = "fpmctl (swift-fpm) $version"
check "fpm.1 is a man page for fpm" grep -q '^\.Dt FPM 1' "$dest$prefix/share/man/man1/fpm.1"
check "fpmctl.1 documents fpmctl top" grep -q 'top' "$dest$prefix/share/man/man1/fpmctl.1"
man=$dest$prefix/share/man
check "fpm.1, fpmctl.1 and fpm.conf.5 pass mandoc -T lint (no warning)" mandoc -T lint -W warning "$man/man1/fpm.1" "$man/man1/fpmctl.1" "$man/man5/fpm.conf.5"
check "fpm.1 and fpmctl.1 have FILES" sh -c 'grep -q "^\.Sh FILES" "$1" && grep -q "^\.Sh FILES" "$2"' sh "$man/man1/fpm.1" "$man/man1/fpmctl.1"
check "fpm.1 shows no subcommand (fpm has none)" sh -c '! grep -qi "subcommand" "$1"' sh "$man/man1/fpm.1"
check "fpm.conf.5 documents pm.max_children" grep -q '^\.It Cm pm\.max_children$' "$man/man5/fpm.conf.5"
check "the installed configuration passes fpm -t" "$dest$prefix/bin/fpm" -t -R -y "$dest/etc/swift-fpm/fpm.conf"
check "its pid file is /run/swift-fpm.pid" grep -q '^pid = /run/swift-fpm.pid$' "$dest/etc/swift-fpm/fpm.conf"
check "the service starts the installed fpm" grep -q "^ExecStart=$prefix/bin/fpm .*/etc/swift-fpm/fpm.conf" "$dest$prefix/lib/systemd/system/swift-fpm.service"
check "the service is Type=notify" grep -q '^Type=notify$' "$dest$prefix/lib/systemd/system/swift-fpm.service"
check "logrotate runs the installed fpmctl reopen" grep -q "$prefix/bin/fpmctl .*reopen" "$dest/etc/logrotate.d/swift-fpm"
check "no placeholder is left" sh -c "! grep -rq '@BINDIR@\|@SYSCONFDIR@' '$dest'"
exit $fail
