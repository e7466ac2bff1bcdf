#!/bin/sh
# Finishes the man pages swift-argument-parser's generate-manual plugin wrote (fpm.1,
# fpmctl.1), which it makes from the commands' help alone: adds their FILES and SEE ALSO
# sections, puts each sentence of the help text on its own line and a paragraph break for a
# blank line (as mdoc wants: `mandoc -T lint` warns otherwise), and writes fpm.conf(5), the
# directive reference, from the directive table and the shipped conf/ (`fpm
# --directive-reference`).
#
#   scripts/finish-man-pages.sh MAN_OUTPUT FPM_BINARY     (run by `make man`)
set -eu
out=$1
fpm=$2
cd "$(dirname "$0")/.."

files='.Sh FILES
.Bl -tag -width Ds
.It Pa conf/fpm.conf
The configuration read without -y when the folder fpm starts in has one (a checkout).
.It Pa /etc/swift-fpm/fpm.conf
The installed configuration, read without -y otherwise; its pools are in
.Pa /etc/swift-fpm/pool.d/ .
.It Pa /run/swift-fpm.pid
The installed configuration'"'"'s pid file.
.It Pa /run/swift-fpm/
The master'"'"'s runtime folder when it runs as root: pool scoreboards and its state file, which
.Nm fpmctl
reads.
Another user'"'"'s master uses
.Pa $XDG_RUNTIME_DIR/swift-fpm
or
.Pa /dev/shm/swift-fpm-UID ,
or SWIFT_FPM_RUNTIME_DIR.
.El'

# $1: page, $2: SEE ALSO references (mdoc lines).
finish() {
    page=$1
    [ -f "$page" ] || { echo "finish-man-pages: $page is missing (run the generate-manual plugin first)" >&2; exit 1; }
    awk -v files="$files" -v seealso="$2" '
        /^\.Sh "EXIT STATUS"/ { exit_status = 1 }
        /^\.Sh AUTHORS/ && !done { print ".Sh \"SEE ALSO\""; print seealso; done = 1 }
        exit_status && !filed { print files; filed = 1 }
        /^\./ || !body { if (/^\.Sh DESCRIPTION/) body = 1; print; next }
        /^$/ { print ".Pp"; next }
        { n = split($0, words, "\\. "); line = words[1]
          for (i = 2; i <= n; i++) {
              if (words[i] ~ /^[A-Z]/) { print line "."; line = words[i] } else line = line ". " words[i]
          }
          print line }
    ' "$page" > "$page.tmp"
    mv "$page.tmp" "$page"
}

finish "$out/fpm/fpm.1" '.Xr fpmctl 1 ,
.Xr fpm.conf 5'
finish "$out/fpmctl/fpmctl.1" '.Xr fpm 1 ,
.Xr fpm.conf 5'
"$fpm" --directive-reference conf > "$out/fpm/fpm.conf.5"
echo "finish-man-pages: $out/fpm/fpm.1, $out/fpmctl/fpmctl.1 and $out/fpm/fpm.conf.5"
