#!/bin/sh
# The layering rule (a project rule; README "Layout"): every libc call lives in the system
# layer, Sources/FPMSystem (and the C shims it calls, Sources/CFPMShims). This fails, printing
# file:line and the call, when a raw call shows up above it: in every other module and
# executable of the package (the roots below: the codecs, the clients, configuration, status,
# server, app library, testing library, the executables, the benchmarks and the test app). A
# root that does not exist (yet) is skipped.
#
#   scripts/check-layering.sh [ALLOWLIST]
#
# ALLOWLIST (default scripts/layering-allowlist.txt; optional) names paths to skip, one a line:
# a file, or a folder ending in `/` (everything below it); `!path` checks a path again that an
# earlier entry skips. `#` starts a comment. It is for code on its way into the system layer;
# keep it empty otherwise.
#
# What counts, in code with comments and string literals removed (interpolations are kept):
#   - anything qualified with the C module: `Glibc.read(`, `Glibc.errno`;
#   - a shim: `cfpm_…`, `CFPM_…`, `import CFPMShims`;
#   - a libc function called bare (`read(fd, …)`, `stat(path, &st)`, `getpid()`), or the bare
#     `errno`.
# What does not: a method call (`.read(`, `FileIO.close(`, `writer.write(`), a declaration
# (`func read(`, `case write(`), a call with a labelled first argument (`read(into: b)`: C
# functions take no labels), and a call of a name the same file declares with `func` (a type
# calling its own `write(…)`; inside such a type the bare name cannot reach libc anyway).
# It is a text check, not a compiler: it trusts the code to be formatted as swift-format would.

set -eu
cd "$(dirname "$0")/.."

allowlist=${1:-scripts/layering-allowlist.txt}
roots="Sources/FastCGI Sources/FastCGIClient Sources/Gearman Sources/GearmanClient Sources/FPMConfiguration Sources/FPMStatus Sources/FPMServer
Sources/FPM Sources/FPMTesting Sources/fpm Sources/fpmctl Sources/fcgibench bench/router Tests/Fixtures/TestApp"

# libc functions that have no business above the system layer.
calls='read|write|pread|pwrite|readv|writev|recv|recvfrom|recvmsg|send|sendto|sendmsg'
calls="$calls|poll|ppoll|select|epoll_create|epoll_create1|epoll_ctl|epoll_wait"
calls="$calls|open|openat|close|close_range|dup|dup2|dup3|pipe|pipe2|socketpair|fcntl|ioctl"
calls="$calls|stat|fstat|lstat|access|realpath|readlink|unlink|rename|mkdir|rmdir|chmod|fchmod|chown"
calls="$calls|umask|chdir|chroot|ftruncate"
calls="$calls|socket|bind|listen|accept|accept4|connect|shutdown|setsockopt|getsockopt|getsockname|getpeername"
calls="$calls|mmap|munmap|msync|mprotect"
calls="$calls|fork|vfork|execv|execve|execvp|execvpe|_exit|waitpid|waitid|wait|kill|killpg|raise|setsid|setpgid"
calls="$calls|sigaction|signal|sigprocmask|sigemptyset|sigfillset|sigaddset|signalfd"
calls="$calls|nanosleep|usleep|sleep|clock_gettime"
calls="$calls|getpid|getppid|geteuid|getuid|setuid|setgid|initgroups|getpwnam|getpwuid|getgrnam"
calls="$calls|getrlimit|setrlimit|getrusage|prctl"
calls="$calls|getenv|setenv|unsetenv|clearenv|dlsym|dlopen|syscall|strerror"
calls="$calls|getaddrinfo|freeaddrinfo|gai_strerror|inet_pton|inet_ntop|fopen|fclose|fread|fwrite|glob|globfree"

# The allow-list as two awk regular expressions over file names: skipped, and checked anyway.
skip='^$'
keep='^$'
if [ -f "$allowlist" ]; then
    lists=$(sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$allowlist" | awk '
        function pattern(p) { gsub(/[.+]/, "\\\\&", p); return "^" p (p ~ /\/$/ ? "" : "$") }
        NF == 0 { next }
        /^!/ { p = substr($0, 2); keep = keep (keep == "" ? "" : "|") pattern(p); next }
        { skip = skip (skip == "" ? "" : "|") pattern($0) }
        END { print (skip == "" ? "^$" : skip); print (keep == "" ? "^$" : keep) }')
    skip=$(printf '%s\n' "$lists" | sed -n 1p)
    keep=$(printf '%s\n' "$lists" | sed -n 2p)
fi

present=""
for root in $roots; do
    if [ -d "$root" ]; then present="$present $root"; fi
done
# shellcheck disable=SC2086
files=$(find $present -name '*.swift' -type f 2>/dev/null | sort)
[ -n "$files" ] || { echo "check-layering: no Swift sources under $roots" >&2; exit 2; }

# shellcheck disable=SC2086
awk -v calls="$calls" -v skip="$skip" -v keep="$keep" '
    # The line without comments and string contents; string state carries over lines for
    # multi-line literals. Interpolations (\( … )) stay: they are code.
    function code_of(s,    out, i, c, n) {
        out = ""; n = length(s)
        for (i = 1; i <= n; i++) {
            c = substr(s, i, 1)
            if (depth_mode[sp] == "str") {
                if (c == "\\") {
                    if (substr(s, i + 1, 1) == "(") { sp++; depth_mode[sp] = "code"; parens[sp] = 1; out = out "("; i++ }
                    else i++
                } else if (multi[sp] && substr(s, i, 3) == "\"\"\"") { sp--; out = out "\"\"\""; i += 2 }
                else if (!multi[sp] && c == "\"") { sp--; out = out "\"" }
                continue
            }
            if (c == "/" && substr(s, i + 1, 1) == "/") break
            if (c == "\"") {
                sp++; depth_mode[sp] = "str"
                if (substr(s, i, 3) == "\"\"\"") { multi[sp] = 1; out = out "\"\"\""; i += 2 } else { multi[sp] = 0; out = out "\"" }
                continue
            }
            if (sp > 0 && depth_mode[sp] == "code") {
                if (c == "(") parens[sp]++
                else if (c == ")" && --parens[sp] == 0) { sp--; out = out ")"; continue }
            }
            out = out c
        }
        # A single-line string left open is a formatting this check does not follow: reset.
        if (sp > 0 && !multi[sp]) sp = 0
        return out
    }
    FNR == 1 {
        skipping = (FILENAME ~ skip && FILENAME !~ keep)
        sp = 0; depth_mode[0] = "code"
        delete declared
        if (!skipping) {
            while ((getline l < FILENAME) > 0)
                while (match(l, /func[ \t]+[A-Za-z_][A-Za-z0-9_]*/)) {
                    name = substr(l, RSTART, RLENGTH); sub(/^func[ \t]+/, "", name); declared[name] = 1
                    l = substr(l, RSTART + RLENGTH)
                }
            close(FILENAME)
        }
    }
    skipping { next }
    {
        code = code_of($0)
        gsub(/(func|case)[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\(/, "", code)    # declarations
        gsub(/errno[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*:/, "", code)            # a parameter named errno
        found = ""
        if (code ~ /Glibc\./) found = "Glibc."
        else if (code ~ /(^|[^A-Za-z0-9_])(cfpm|CFPM)_/) found = "C shim"
        else if (code ~ /^[ \t]*(@[A-Za-z_]+[ \t]+)*import[ \t]+CFPMShims/) found = "import CFPMShims"
        else {
            rest = code
            while (found == "" && match(rest, "(^|[^.A-Za-z0-9_])(" calls ")[ \t]*\\(")) {
                name = substr(rest, RSTART, RLENGTH)
                rest = substr(rest, RSTART + RLENGTH)
                sub(/^[^A-Za-z_]/, "", name); sub(/[ \t]*\($/, "", name)
                if (name in declared) continue
                if (rest ~ /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*:([^:]|$)/) continue
                found = name "("
            }
            if (found == "" && code ~ /(^|[^.A-Za-z0-9_])errno([^A-Za-z0-9_:]|$)/) found = "errno"
        }
        if (found != "") {
            line = $0; sub(/^[ \t]+/, "", line)
            printf "%s:%d: raw libc use (%s): %s\n", FILENAME, FNR, found, line
            hits++
        }
    }
    END {
        if (hits > 0) {
            printf "check-layering: %d raw libc use(s) above Sources/FPMSystem: wrap them there (typed, errors naming the call).\n", hits > "/dev/stderr"
            exit 1
        }
    }
' $files
