#!/usr/bin/env python3
"""The driver behind `make bench` (bench/run.sh builds, then runs this).

Three FastCGI backends with the same number of workers (pm = static), each behind its own
nginx on 127.0.0.1 (one server block plain, one with an upstream `keepalive` +
`fastcgi_keep_conn on`), over a unix socket and then over TCP (BENCH_TRANSPORTS):

  swift-fpm   fpm-testapp, handler = testapp          /pid, /big?bytes=N, /sleep?ms=N
  php-fpm     php-fpm8.2 -F -R -y <temp conf>         /pid.php, /big.php?bytes=N, /sleep.php
  libfcgi     spawn-fcgi -F N bench/libfcgi-hello     /pid, /big?bytes=N

wrk drives each at -c4 and -c16 (BENCH_CONN_LIST; after a warm-up), and fcgibench drives each
directly (no nginx: kept connections and one per request), the backends interleaved and
rotated each round so the noise of a shared machine spreads over all of them; each round's
swift-fpm/other ratio is taken within the round, and the table shows the medians of those.
fcgibench also drives swift-fpm's /async (/pid's answer from an async handler) on kept
connections: its CPU per request against /pid's is the async path's cost (target <= 1.10). Then: per-worker memory (/proc/PID/smaps_rollup), syscalls per request (strace -c on
the workers), and the reload stall (one slow request in flight, SIGUSR2, new requests for a
few seconds: the longest wait). First of all, when valgrind is there (BENCH_INSTRUCTIONS=0 skips
it): instructions per kept /pid request (callgrind, bench/instructions.sh), swift-fpm and libfcgi
one after the other on the same N requests over one kept connection.

Every process started here is stopped by its pid; the temp dir is removed; all traffic stays
on 127.0.0.1; every loop has a deadline.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


WORKERS = env_int("BENCH_WORKERS", 4)
ROUNDS = env_int("BENCH_ROUNDS", 3)
DURATION = env_int("BENCH_DURATION", 10)
WARMUP = env_int("BENCH_WARMUP", 2)
CONNS = env_int("BENCH_CONNS", 16)
CONN_LIST = [int(c) for c in os.environ.get("BENCH_CONN_LIST", "4 16").split()]
TRANSPORTS = os.environ.get("BENCH_TRANSPORTS", "unix tcp").split()
DO_FCGIBENCH = os.environ.get("BENCH_FCGIBENCH", "1") != "0"
THREADS = env_int("BENCH_THREADS", 2)
KEEPALIVE = env_int("BENCH_KEEPALIVE_CACHE", 4)
BIG_BYTES = env_int("BENCH_BIG_BYTES", 65536)
DO_BIG = os.environ.get("BENCH_BIG", "1") != "0"
DO_KEEPALIVE = os.environ.get("BENCH_KEEPALIVE", "1") != "0"
DO_INSTRUCTIONS = os.environ.get("BENCH_INSTRUCTIONS", "1") != "0" and shutil.which("valgrind") is not None \
    and shutil.which("spawn-fcgi") is not None
INSTRUCTIONS_N = env_int("BENCH_INSTRUCTIONS_N", 20000)
DO_STRACE = os.environ.get("BENCH_STRACE", "1") != "0" and shutil.which("strace") is not None
DO_RELOAD = os.environ.get("BENCH_RELOAD", "1") != "0"
RELOAD_SLOW_MS = env_int("BENCH_RELOAD_SLOW_MS", 3000)
RELOAD_PROBE_SECONDS = env_int("BENCH_RELOAD_PROBE_SECONDS", 5)
# nginx closes idle cached upstream connections after this; the harness waits it out after each
# keepalive run, because php-fpm and libfcgi workers stay parked on those idle connections and
# would starve the next (plain) run for nginx's default 60 s.
KEPT_IDLE_SECONDS = 2


def log(msg):
    print(f"bench: {msg}", flush=True)


# ---------------------------------------------------------------------------------------------
# processes

class Processes:
    """Everything this run started: Popen children and detached pids (spawn-fcgi's workers)."""

    def __init__(self):
        self.children = []   # (name, Popen, stop signal)
        self.detached = []   # (name, pid)

    def start(self, name, argv, logfile, stop_signal=signal.SIGTERM, **kw):
        out = open(logfile, "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
        out.close()
        self.children.append((name, p, stop_signal))
        return p

    def adopt(self, name, pid):
        self.detached.append((name, pid))

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is not None:
            return
        try:
            p.send_signal(sig)
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5)
        except ProcessLookupError:
            pass

    def stop_all(self):
        for name, p, sig in reversed(self.children):
            self.stop(p, sig)
        self.children = []
        for name, pid in self.detached:
            stop_pid(pid)
        self.detached = []


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def stop_pid(pid, timeout=5):
    """SIGTERM to a process that is not our child, then SIGKILL after `timeout`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def children_of(ppid):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) == ppid and fields[0] not in ("Z", "X"):
                pids.append(int(entry))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    return sorted(pids)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise RuntimeError(f"timed out after {timeout}s waiting for {what}")


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def http_get(port, path, timeout=15.0):
    """One GET on a fresh connection: (status or None, body or error text, seconds)."""
    t0 = time.monotonic()
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", path, headers={"Connection": "close"})
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body, time.monotonic() - t0
    except Exception as e:  # noqa: BLE001 - any failure is a data point
        return None, f"{type(e).__name__}: {e}".encode(), time.monotonic() - t0


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pids):
    """utime + stime of `pids`, in clock ticks (/proc/PID/stat fields 14 and 15)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            pass
    return total


def smaps_rollup(pid):
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3 and parts[0].rstrip(":") in ("Rss", "Pss", "Private_Dirty", "Private_Clean", "Shared_Clean"):
                    out[parts[0].rstrip(":")] = int(parts[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return out


# ---------------------------------------------------------------------------------------------
# backends

class Backend:
    name = "?"
    urls = {}

    def __init__(self, procs, tmp, port, transport="tcp"):
        self.procs = procs
        self.dir = os.path.join(tmp, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port
        self.transport = transport
        self.sock = os.path.join(self.dir, "fcgi.sock")
        self.master = None

    @property
    def listen(self):
        """The backend's listen address (its config's `listen`, fcgibench's target)."""
        return self.sock if self.transport == "unix" else f"127.0.0.1:{self.port}"

    @property
    def upstream(self):
        """nginx's `server` for it."""
        return f"unix:{self.sock}" if self.transport == "unix" else f"127.0.0.1:{self.port}"

    def listening(self):
        if self.transport != "unix":
            return port_open(self.port)
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect(self.sock)
                return True
        except OSError:
            return False

    def worker_pids(self):
        return children_of(self.master.pid) if self.master else []

    def master_pid(self):
        return self.master.pid if self.master else None

    def wait_ready(self):
        wait_for(self.listening, 30, f"{self.name} listening on {self.listen}")
        wait_for(lambda: len(self.worker_pids()) >= WORKERS, 30, f"{self.name}'s {WORKERS} workers")

    def reload(self):
        os.kill(self.master_pid(), signal.SIGUSR2)

    def alive(self):
        m = self.master_pid()
        return (m is None or pid_alive(m)) and len(self.worker_pids()) >= WORKERS


def ensure_alive(b, results, when):
    """A backend that vanished (crash, or killed from outside on a shared machine) is noted and
    started again, so one incident does not void every later phase."""
    if b.alive():
        return True
    incident = f"{b.name} was not running {when} (master {b.master_pid()}, workers {b.worker_pids()}); restarted"
    log("INCIDENT: " + incident)
    results.setdefault("incidents", []).append(incident)
    b.start()
    return False


class SwiftFPM(Backend):
    name = "swift-fpm"
    # "async": /pid's answer from an async handler (the async path's cost against "small").
    urls = {"small": "/pid", "big": f"/big?bytes={BIG_BYTES}", "sleep": f"/sleep?ms={RELOAD_SLOW_MS}", "async": "/async"}

    def __init__(self, procs, tmp, port, binpath, transport="tcp"):
        super().__init__(procs, tmp, port, transport)
        self.binpath = binpath

    def start(self):
        conf = os.path.join(self.dir, "fpm.conf")
        with open(conf, "w") as f:
            f.write(f"""[global]
pid = {self.dir}/fpm.pid
error_log = {self.dir}/error.log
process_control_timeout = 10s

[bench]
listen = {self.listen}
listen.mode = 0666
listen.backlog = 1024
handler = testapp
pm = static
pm.max_children = {WORKERS}
""")
        self.master = self.procs.start(self.name, [os.path.join(self.binpath, "fpm-testapp"), "-F", "-R", "-y", conf],
                                       os.path.join(self.dir, "stdout.log"))
        self.wait_ready()


class PHPFPM(Backend):
    name = "php-fpm"
    urls = {"small": "/pid.php", "big": f"/big.php?bytes={BIG_BYTES}", "sleep": f"/sleep.php?ms={RELOAD_SLOW_MS}"}

    def __init__(self, procs, tmp, port, www, transport="tcp"):
        super().__init__(procs, tmp, port, transport)
        self.www = www

    def start(self):
        conf = os.path.join(self.dir, "php-fpm.conf")
        with open(conf, "w") as f:
            f.write(f"""[global]
pid = {self.dir}/php-fpm.pid
error_log = {self.dir}/error.log
process_control_timeout = 10s

[bench]
listen = {self.listen}
listen.mode = 0666
listen.backlog = 1024
pm = static
pm.max_children = {WORKERS}
""")
        exe = shutil.which("php-fpm8.2") or "/usr/sbin/php-fpm8.2"
        self.master = self.procs.start(self.name, [exe, "-F", "-R", "-y", conf], os.path.join(self.dir, "stdout.log"))
        self.wait_ready()


class LibFCGI(Backend):
    name = "libfcgi"
    urls = {"small": "/pid", "big": f"/big?bytes={BIG_BYTES}", "sleep": f"/sleep?ms={RELOAD_SLOW_MS}"}

    def __init__(self, procs, tmp, port, program, transport="tcp"):
        super().__init__(procs, tmp, port, transport)
        self.program = program
        self.pids = []

    def start(self):
        pidfile = os.path.join(self.dir, "spawn-fcgi.pid")
        exe = shutil.which("spawn-fcgi") or "/usr/bin/spawn-fcgi"
        where = ["-s", self.sock, "-M", "0666"] if self.transport == "unix" else ["-a", "127.0.0.1", "-p", str(self.port)]
        r = subprocess.run([exe] + where + ["-F", str(WORKERS), "-P", pidfile, "--", self.program],
                           capture_output=True, text=True, timeout=30)
        with open(os.path.join(self.dir, "spawn-fcgi.log"), "w") as f:
            f.write(r.stdout + r.stderr)
        # spawn-fcgi prints "spawn-fcgi: child spawned successfully: PID: N" per child.
        self.pids = [int(p) for p in re.findall(r"PID:\s*(\d+)", r.stdout + r.stderr)]
        if os.path.exists(pidfile):
            with open(pidfile) as f:
                self.pids = sorted(set(self.pids) | {int(x) for x in f.read().split() if x.isdigit()})
        for pid in self.pids:
            self.procs.adopt(self.name, pid)
        if r.returncode != 0 or len(self.pids) < WORKERS:
            raise RuntimeError(f"spawn-fcgi failed ({r.returncode}): {r.stdout}{r.stderr}")
        self.wait_ready()

    def worker_pids(self):
        return [p for p in self.pids if pid_alive(p)]

    def master_pid(self):
        return None


FASTCGI_PARAMS = """
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
            fastcgi_param SCRIPT_NAME $fastcgi_script_name;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param DOCUMENT_URI $document_uri;
            fastcgi_param DOCUMENT_ROOT $document_root;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param GATEWAY_INTERFACE CGI/1.1;
            fastcgi_param SERVER_SOFTWARE nginx;
            fastcgi_param REMOTE_ADDR $remote_addr;
            fastcgi_param REMOTE_PORT $remote_port;
            fastcgi_param SERVER_ADDR $server_addr;
            fastcgi_param SERVER_PORT $server_port;
            fastcgi_param SERVER_NAME $server_name;
            fastcgi_buffer_size 16k;
            fastcgi_buffers 16 16k;
"""


class Nginx:
    """One nginx per backend: `plain` (a new FastCGI connection per request) and `keepalive`
    (upstream keepalive cache + fastcgi_keep_conn on) server blocks."""

    def __init__(self, procs, tmp, backend, www):
        self.procs = procs
        self.backend = backend
        self.dir = os.path.join(tmp, f"nginx-{backend.name}")
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.ports = {"plain": free_port(), "keepalive": free_port()}
        self.www = www
        self.proc = None

    def start(self):
        d = self.dir
        user = "user root;" if os.getuid() == 0 else ""
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""{user}
worker_processes 1;
daemon off;
master_process on;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    fastcgi_temp_path {d}/tmp/fastcgi;
    proxy_temp_path {d}/tmp/proxy;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    keepalive_requests 1000000;
    upstream plain {{ server {self.backend.upstream}; }}
    upstream kept {{ server {self.backend.upstream}; keepalive {KEEPALIVE}; keepalive_requests 1000000; keepalive_timeout {KEPT_IDLE_SECONDS}s; }}
    server {{
        listen 127.0.0.1:{self.ports['plain']} backlog=4096;
        root {self.www};
        location / {{
            fastcgi_pass plain;{FASTCGI_PARAMS}
        }}
    }}
    server {{
        listen 127.0.0.1:{self.ports['keepalive']} backlog=4096;
        root {self.www};
        location / {{
            fastcgi_pass kept;
            fastcgi_keep_conn on;{FASTCGI_PARAMS}
        }}
    }}
}}
""")
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = self.procs.start(f"nginx-{self.backend.name}", [exe, "-p", d, "-c", conf],
                                     os.path.join(d, "stdout.log"), stop_signal=signal.SIGTERM)
        for port in self.ports.values():
            wait_for(lambda: port_open(port), 20, f"nginx for {self.backend.name} on {port}")


# ---------------------------------------------------------------------------------------------
# wrk

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text.strip())
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else None


def parse_wrk(out):
    r = {"rps": None, "p50_ms": None, "p99_ms": None, "requests": 0, "errors": 0,
         "socket_errors": {}, "non2xx": 0}
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if m:
        r["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        r["requests"] = int(m.group(1))
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms"), ("90", "p90_ms"), ("75", "p75_ms")):
        m = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", out, re.M)
        if m:
            r[key] = to_ms(m.group(1))
    m = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", out)
    if m:
        r["max_ms"] = to_ms(m.group(3))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        r["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, m.groups())))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["non2xx"] = int(m.group(1))
    r["errors"] = sum(r["socket_errors"].values()) + r["non2xx"]
    return r


def run_wrk(url, seconds, conns=CONNS, threads=THREADS, save=None):
    argv = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "--timeout", "5s", url]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    out = p.stdout + p.stderr
    if save:
        with open(save, "w") as f:
            f.write(" ".join(argv) + "\n" + out)
    return parse_wrk(out)


def run_fcgibench(exe, b, seconds, conns, persistent, www, save=None, resp="small"):
    """fcgibench straight at the backend (no nginx): the same fields as parse_wrk's."""
    uri = b.urls[resp]
    argv = [exe, b.listen, "-c", str(conns), "-d", str(seconds), "--uri", uri, "--document-root", www,
            "--timeout", str(seconds + 5), "--json"] + ([] if persistent else ["--new-connection"])
    p = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if save:
        with open(save, "w") as f:
            f.write(" ".join(argv) + "\n" + p.stdout + p.stderr)
    try:
        j = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"requests": 0, "non2xx": 0, "errors": 1, "rps": None, "p50_ms": None, "p99_ms": None}
    return {"requests": j["requests"], "non2xx": j["non2xx"], "errors": j["errors"], "rps": j["requests_per_second"],
            "p50_ms": j["p50_us"] / 1000, "p90_ms": j["p90_us"] / 1000, "p99_ms": j["p99_us"] / 1000,
            "max_ms": j["max_us"] / 1000}


# ---------------------------------------------------------------------------------------------
# phases

def memory_sample(b):
    workers = [smaps_rollup(p) for p in b.worker_pids()]
    workers = [w for w in workers if w]
    avg = {k: round(statistics.mean(w.get(k, 0) for w in workers)) for k in ("Rss", "Pss", "Private_Dirty")} if workers else {}
    master = smaps_rollup(b.master_pid()) if b.master_pid() else {}
    return {"workers": len(workers), "per_worker_kB": avg, "master_kB": {k: master.get(k) for k in ("Rss", "Pss", "Private_Dirty")} if master else None}


def instructions_phase(binpath, fcgibench, libfcgi, out_dir):
    """Instructions per kept /pid request under callgrind (bench/instructions.sh): swift-fpm's
    one worker (start-up included, as the script counts it) and the libfcgi program."""
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, BIN=binpath, LIBFCGI=libfcgi, N=str(INSTRUCTIONS_N),
               KEEP=os.path.join(out_dir, "callgrind"))
    # instructions.sh runs the fcgibench in BIN: give it this checkout's.
    fb_dir = os.path.join(out_dir, "callgrind-bin")
    os.makedirs(fb_dir, exist_ok=True)
    for name, src in (("fpm-testapp", os.path.join(binpath, "fpm-testapp")), ("fcgibench", fcgibench)):
        dst = os.path.join(fb_dir, name)
        if not os.path.exists(dst):
            os.symlink(src, dst)
    env["BIN"] = fb_dir
    try:
        out = subprocess.run([os.path.join(here, "instructions.sh"), "/pid"], env=env, capture_output=True,
                             text=True, timeout=900).stdout
    except subprocess.TimeoutExpired:
        return {"error": "timed out"}
    result = {"requests": INSTRUCTIONS_N}
    for line in out.splitlines():
        m = re.match(r"^(libfcgi )?/pid\s+(\d+)/request", line)
        if m:
            result["libfcgi" if m.group(1) else "swift-fpm"] = int(m.group(2))
    return result


def parse_strace_c(path):
    calls = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            # % time  seconds  usecs/call  calls  [errors]  syscall
            if len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]) and parts[3].isdigit():
                name = parts[-1]
                if name == "total":
                    continue
                calls[name] = calls.get(name, 0) + int(parts[3])
    return calls


def strace_phase(b, ngx, out_dir, procs, mode="plain"):
    """strace -c on the workers while wrk runs inside the trace window; per request = calls /
    wrk's completed requests. Also (plain) one traced request, written out in full."""
    pids = b.worker_pids()
    res = {}
    cfile = os.path.join(out_dir, f"strace-c-{mode}-{b.name}.txt")
    argv = ["strace", "-c", "-o", cfile] + [a for p in pids for a in ("-p", str(p))]
    st = procs.start(f"strace-{b.name}", argv, os.path.join(out_dir, f"strace-{b.name}.log"), stop_signal=signal.SIGINT)
    time.sleep(1.0)
    w = run_wrk(f"http://127.0.0.1:{ngx.ports[mode]}{b.urls['small']}", 4, conns=CONNS, threads=1,
                save=os.path.join(out_dir, f"strace-wrk-{mode}-{b.name}.txt"))
    time.sleep(0.3)
    procs.stop(st, signal.SIGINT)
    procs.children = [c for c in procs.children if c[1] is not st]
    calls = parse_strace_c(cfile) if os.path.exists(cfile) else {}
    accepts = calls.get("accept", 0) + calls.get("accept4", 0)
    res["wrk_requests"] = w["requests"]
    res["accepts"] = accepts
    res["calls"] = calls
    n = w["requests"] - w["non2xx"]
    res["wrk_errors"] = w["errors"]
    if n and not w["errors"]:
        res["per_request"] = {k: round(v / n, 2) for k, v in sorted(calls.items(), key=lambda kv: -kv[1])}
        res["total_per_request"] = round(sum(calls.values()) / n, 2)
    if mode != "plain":
        time.sleep(KEPT_IDLE_SECONDS + 1)
        return res

    # One request, fully traced (all workers attached; the one that served it shows up).
    tfile = os.path.join(out_dir, f"strace-one-request-{b.name}.txt")
    argv = ["strace", "-tt", "-o", tfile] + [a for p in pids for a in ("-p", str(p))]
    st = procs.start(f"strace1-{b.name}", argv, os.path.join(out_dir, f"strace-{b.name}.log"), stop_signal=signal.SIGINT)
    time.sleep(1.0)
    http_get(ngx.ports["plain"], b.urls["small"], timeout=10)
    time.sleep(0.3)
    procs.stop(st, signal.SIGINT)
    procs.children = [c for c in procs.children if c[1] is not st]
    if os.path.exists(tfile):
        with open(tfile) as f:
            lines = [l for l in f if not re.search(r"(resumed>|\+\+\+|---|<unfinished)", l) or "accept" in l]
        res["one_request_syscalls"] = len([l for l in lines if re.search(r"^\d+\s+[\d:.]+\s+\w+\(", l)])
    return res


def reload_phase(b, ngx, out_dir, gap=0.0):
    """One slow request in flight, SIGUSR2, then (after `gap` s) sequential new requests for a
    few seconds."""
    port = ngx.ports["plain"]
    before = b.worker_pids()
    slow = {}

    def slow_request():
        slow["status"], body, slow["seconds"] = http_get(port, b.urls["sleep"], timeout=30)
        slow["body"] = body[:80].decode(errors="replace")

    t = threading.Thread(target=slow_request, daemon=True)
    t.start()
    time.sleep(0.2)   # let the slow request reach a worker
    t_reload = time.monotonic()
    b.reload()
    if gap:
        time.sleep(gap)
    probes = []
    while time.monotonic() - t_reload < RELOAD_PROBE_SECONDS:
        started = time.monotonic() - t_reload
        status, body, secs = http_get(port, b.urls["small"], timeout=15)
        probes.append({"at": round(started, 4), "status": status, "seconds": round(secs, 4),
                       "body": body[:40].decode(errors="replace").strip()})
    t.join(timeout=30)
    try:
        wait_for(lambda: len(b.worker_pids()) >= WORKERS and b.listening(), 30, f"{b.name} after reload")
    except RuntimeError:
        pass
    after = b.worker_pids()
    failures = [p for p in probes if p["status"] != 200]
    longest = max(probes, key=lambda p: p["seconds"]) if probes else None
    res = {
        "probes": len(probes),
        "failures": len(failures),
        "longest_wait_s": longest["seconds"] if longest else None,
        "longest_started_at_s": longest["at"] if longest else None,
        "median_wait_ms": round(statistics.median(p["seconds"] for p in probes) * 1000, 2) if probes else None,
        "slow_request": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in slow.items()},
        "workers_before": before, "workers_after": after,
        "workers_replaced": bool(after) and not set(before) & set(after),
    }
    res["gap_s"] = gap
    with open(os.path.join(out_dir, f"reload-{b.name}-gap{int(gap * 1000)}ms.json"), "w") as f:
        json.dump({**res, "probe_list": probes}, f, indent=1)
    return res


# ---------------------------------------------------------------------------------------------
# reporting

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def versions():
    def first(argv):
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except Exception:  # noqa: BLE001
            return "?"
    return {
        "swift": first(["swift", "--version"]),
        "nginx": first(["nginx", "-v"]),
        "php-fpm": first(["php-fpm8.2", "-v"]),
        "wrk": first(["wrk", "-v"]),
        "git": first(["git", "describe", "--always", "--dirty"]),
        "kernel": os.uname().release,
        "cpus": os.cpu_count(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--libfcgi", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--fcgibench", default=None)
    args = ap.parse_args()
    do_fcgibench = DO_FCGIBENCH and args.fcgibench is not None and os.access(args.fcgibench, os.X_OK)

    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.join(args.out, stamp)
    os.makedirs(os.path.join(out_dir, "wrk"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="swift-fpm-bench.")
    os.chmod(tmp, 0o755)
    www = os.path.join(tmp, "www")
    os.makedirs(www)
    with open(os.path.join(www, "pid.php"), "w") as f:
        f.write('<?php echo "pid ", getmypid(), "\\n";\n')
    with open(os.path.join(www, "big.php"), "w") as f:
        f.write('<?php $n = (int)($_GET["bytes"] ?? 1048576); echo str_repeat("x", max(0, $n - 1)), "\\n";\n')
    with open(os.path.join(www, "sleep.php"), "w") as f:
        # Sleeps until the deadline even when a signal (the reload's SIGQUIT) cuts usleep short,
        # as the swift-fpm fixture's /sleep does (nanosleep again on EINTR): the slow request
        # stands for real work, which a signal does not shorten.
        f.write('<?php $ms = (int)($_GET["ms"] ?? 3000); $end = microtime(true) + $ms / 1000;\n'
                'while (($left = $end - microtime(true)) > 0) { usleep((int)($left * 1e6)); }\n'
                'echo "slept $ms pid ", getmypid(), "\\n";\n')

    procs = Processes()

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    results = {"config": {"workers": WORKERS, "rounds": ROUNDS, "duration_s": DURATION, "warmup_s": WARMUP,
                          "wrk": f"-t{THREADS} -c{'/'.join(map(str, CONN_LIST))} --latency --timeout 5s",
                          "nginx_keepalive_cache": KEEPALIVE, "big_bytes": BIG_BYTES, "transports": TRANSPORTS,
                          "conn_list": CONN_LIST, "fcgibench": do_fcgibench},
               "versions": versions(), "loadavg_start": open("/proc/loadavg").read().split()[:3],
               "runs": [], "memory": {}, "strace": {}, "reload": {}, "instructions": {}}
    try:
      if DO_INSTRUCTIONS and args.fcgibench:
        log(f"instructions per kept /pid request (callgrind, {INSTRUCTIONS_N} requests each)")
        results["instructions"] = instructions_phase(args.bin, args.fcgibench, args.libfcgi, out_dir)
      for ti, transport in enumerate(TRANSPORTS):
        ttmp = os.path.join(tmp, transport)
        os.makedirs(ttmp, exist_ok=True)
        log(f"transport: {transport}")
        backends = [
            SwiftFPM(procs, ttmp, free_port(), args.bin, transport),
            PHPFPM(procs, ttmp, free_port(), www, transport),
            LibFCGI(procs, ttmp, free_port(), args.libfcgi, transport),
        ]
        nginxes = {}
        for b in backends:
            log(f"starting {b.name} ({WORKERS} workers) on {b.listen}")
            b.start()
            ngx = Nginx(procs, tmp, b, www)
            ngx.start()
            nginxes[b.name] = ngx
            # Sanity: the small and big responses are what we think they are, in both modes.
            for mode in ("plain", "keepalive"):
                st, body, _ = http_get(ngx.ports[mode], b.urls["small"], timeout=10)
                if st != 200 or not body.startswith(b"pid "):
                    raise RuntimeError(f"{b.name} via nginx ({mode}) answered {st}: {body[:200]!r}")
            st, body, _ = http_get(ngx.ports["plain"], b.urls["big"], timeout=10)
            if st != 200 or len(body) != BIG_BYTES:
                raise RuntimeError(f"{b.name} /big answered {st} with {len(body)} bytes, wanted {BIG_BYTES}")
            if ti == 0:
                results["memory"].setdefault(b.name, {})["idle"] = memory_sample(b)

        scenarios = [("small", "plain", c) for c in CONN_LIST]
        if DO_KEEPALIVE:
            scenarios += [("small", "keepalive", c) for c in CONN_LIST]
        if DO_BIG:
            scenarios.append(("big", "plain", CONNS))
        if do_fcgibench:
            scenarios += [("small", "fcgibench-kept", c) for c in CONN_LIST]
            scenarios += [("small", "fcgibench-new", c) for c in CONN_LIST]
            # The async path against the synchronous one (swift-fpm only: the backends with an "async" URL).
            scenarios += [("async", "fcgibench-kept", c) for c in CONN_LIST]
        total = ROUNDS * len(scenarios) * len(backends) * (DURATION + WARMUP)
        log(f"{ROUNDS} rounds x {len(scenarios)} scenarios x {len(backends)} backends, ~{total // 60} min {total % 60} s of wrk")
        for rnd in range(ROUNDS):
            for resp, mode, conns in scenarios:
                k = rnd % len(backends)
                order = backends[k:] + backends[:k]
                if rnd % 2 == 1:
                    order.reverse()
                for b in order:
                    if resp not in b.urls:
                        continue
                    ngx = nginxes[b.name]
                    tag = f"{transport}-r{rnd + 1}-{resp}-{mode}-c{conns}-{b.name}"
                    if mode.startswith("fcgibench"):
                        persistent = mode == "fcgibench-kept"
                        pids = b.worker_pids()
                        ticks = cpu_ticks(pids)
                        w = run_fcgibench(args.fcgibench, b, DURATION, conns, persistent, www,
                                          save=os.path.join(out_dir, "wrk", tag + ".txt"), resp=resp)
                    else:
                        url = f"http://127.0.0.1:{ngx.ports[mode]}{b.urls[resp]}"
                        if WARMUP > 0:
                            run_wrk(url, WARMUP, conns=conns)
                        pids = b.worker_pids()
                        ticks = cpu_ticks(pids)
                        w = run_wrk(url, DURATION, conns=conns, save=os.path.join(out_dir, "wrk", tag + ".txt"))
                    ok = w["requests"] - w["non2xx"]
                    if ok > 0:
                        w["worker_cpu_us_per_req"] = round((cpu_ticks(pids) - ticks) * 1e6 / CLK_TCK / ok, 1)
                    w.update({"round": rnd + 1, "backend": b.name, "response": resp, "mode": mode, "conns": conns,
                              "transport": transport})
                    if not ensure_alive(b, results, f"after round {rnd + 1} {resp} {mode}"):
                        w["invalid"] = "backend died during the run"
                    if resp == "small" and mode in ("plain", "keepalive"):
                        w["memory"] = memory_sample(b)
                    results["runs"].append(w)
                    if mode in ("keepalive", "fcgibench-kept"):
                        time.sleep(KEPT_IDLE_SECONDS + 1)   # let nginx drop its idle cached connections
                    log(f"{transport} round {rnd + 1} {resp:5} {mode:14} c{conns:<3} {b.name:9} {fmt(w['rps'], 0):>8} req/s  "
                        f"p50 {fmt(w['p50_ms'], 2)} ms  p99 {fmt(w['p99_ms'], 2)} ms  errors {w['errors']}")
        for b in backends:
            results["memory"].setdefault(b.name, {})["after_load_" + transport] = memory_sample(b)

        if DO_STRACE and ti == 0:
            for b in backends:
                log(f"strace -c on {b.name}'s workers")
                ensure_alive(b, results, "before strace")
                results["strace"][b.name] = strace_phase(b, nginxes[b.name], out_dir, procs)
                if DO_KEEPALIVE:
                    results["strace"][b.name + " keepalive"] = strace_phase(b, nginxes[b.name], out_dir, procs, "keepalive")

        if DO_RELOAD and ti == 0:
            for b in backends:
                if isinstance(b, LibFCGI):
                    continue
                log(f"reload under a {RELOAD_SLOW_MS} ms request: {b.name}")
                ensure_alive(b, results, "before the reload test")
                results["reload"][b.name] = reload_phase(b, nginxes[b.name], out_dir)
                time.sleep(1)
                log(f"reload again, new requests from 100 ms after SIGUSR2: {b.name}")
                ensure_alive(b, results, "before the second reload test")
                results["reload"][b.name + " gap100"] = reload_phase(b, nginxes[b.name], out_dir, gap=0.1)
        procs.stop_all()
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        results["interrupted"] = "interrupted"
    except Exception as e:  # noqa: BLE001 - report what we have, then fail
        log(f"FAILED: {type(e).__name__}: {e}")
        results["interrupted"] = f"{type(e).__name__}: {e}"
    finally:
        procs.stop_all()
        if os.environ.get("BENCH_KEEP_TMP") == "1":
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    results["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    summary = report(results)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(out_dir, "summary.txt"), "w") as f:
        f.write(summary)
    latest = os.path.join(args.out, "latest")
    try:
        if os.path.islink(latest):
            os.unlink(latest)
        os.symlink(stamp, latest)
    except OSError:
        pass
    print(summary)
    log(f"raw numbers: {out_dir}")
    return 1 if results.get("interrupted") else 0


def report(results):
    names = ["swift-fpm", "php-fpm", "libfcgi"]
    cfg = results["config"]
    lines = []
    add = lines.append
    add("=" * 100)
    add(f"swift-fpm bench  {time.strftime('%Y-%m-%d %H:%M')}  git {results['versions'].get('git')}  "
        f"{results['versions'].get('cpus')} cpus  load {' '.join(results['loadavg_start'])} -> {' '.join(results.get('loadavg_end', []))}")
    add(f"{cfg['workers']} workers each (pm static), nginx 1 worker per backend, wrk {cfg['wrk']} -d{cfg['duration_s']}s "
        f"after {cfg['warmup_s']}s warm-up, {cfg['rounds']} rounds interleaved; medians of rounds")
    runtime = "linked in (--static-swift-stdlib)" if os.environ.get("BENCH_STATIC_STDLIB", "0") != "0" else "shared libswiftCore.so"
    add(f"swift-fpm's Swift runtime: {runtime}")
    ins = results.get("instructions") or {}
    if ins.get("swift-fpm") or ins.get("libfcgi"):
        s_i, l_i = ins.get("swift-fpm"), ins.get("libfcgi")
        add(f"instructions per kept /pid request (callgrind, {ins.get('requests')} over one kept connection; target <= 10000): "
            f"swift-fpm {fmt(s_i, 0)}, libfcgi {fmt(l_i, 0)}, ratio {fmt(ratio(s_i, l_i), 2)}")
    elif ins.get("error"):
        add(f"instructions per kept request: {ins['error']}")
    add("")
    scen_order = []
    for r in results["runs"]:
        key = (r.get("transport", "tcp"), r["response"], r["mode"], r.get("conns", CONNS))
        if key not in scen_order:
            scen_order.append(key)

    def label_of(resp, mode, conns):
        what = {"small": "pid", "async": "async pid"}.get(resp, f"{cfg['big_bytes']} B")
        if mode == "plain":
            return f"wrk -c{conns} {what}, new connection"
        if mode == "keepalive":
            return f"wrk -c{conns} {what}, keepalive({cfg['nginx_keepalive_cache']})"
        return f"fcgibench -c{conns}{' async' if resp == 'async' else ''}, {'kept' if mode == 'fcgibench-kept' else 'new'} conn."

    add(f"{'transport  scenario':<46}{'backend':<11}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'cpu us/req':>12}   rounds req/s")
    medians = {}
    for key in scen_order:
        transport, resp, mode, conns = key
        runs = [r for r in results["runs"] if (r.get("transport", "tcp"), r["response"], r["mode"], r.get("conns", CONNS)) == key
                and not r.get("invalid")]
        label = f"{transport:<11}{label_of(resp, mode, conns)}"
        for n in names:
            rs = [r for r in runs if r["backend"] == n]
            if not rs:
                continue
            m = {"rps": med([r["rps"] for r in rs]), "p50": med([r["p50_ms"] for r in rs]),
                 "p99": med([r["p99_ms"] for r in rs]), "errors": sum(r["errors"] for r in rs),
                 "cpu": med([r.get("worker_cpu_us_per_req") for r in rs]), "runs": rs}
            medians[key + (n,)] = m
            add(f"{label:<46}{n:<11}{fmt(m['rps'], 0):>10}{fmt(m['p50'], 2):>9}{fmt(m['p99'], 2):>9}{m['errors']:>8}{fmt(m['cpu'], 1):>12}   "
                + " ".join(fmt(r["rps"], 0) for r in sorted(rs, key=lambda r: r["round"])))
            label = ""
    add("")
    add("'cpu us/req': user+system CPU of the backend's workers per successful request (/proc/PID/stat)")
    for key in scen_order:
        transport, resp, mode, conns = key
        a, s_ = medians.get(key + ("swift-fpm",)), medians.get((transport, "small", mode, conns, "swift-fpm"))
        if resp == "async" and a and s_ and a["cpu"] and s_["cpu"]:
            add(f"async path ({transport}, fcgibench -c{conns}, kept): CPU per request {fmt(a['cpu'], 1)} us against "
                f"{fmt(s_['cpu'], 1)} us synchronous: {fmt(a['cpu'] / s_['cpu'], 3)}x (target <= 1.10)")
    add("")

    def in_round(s_runs, o_runs, field):
        """The median over rounds of swift-fpm's value / the other's in the same round."""
        by_round = {r["round"]: r.get(field) for r in o_runs}
        rs = [ratio(r.get(field), by_round.get(r["round"])) for r in s_runs if r.get(field) is not None]
        rs = [x for x in rs if x is not None]
        return (med(rs), min(rs) if rs else None, max(rs) if rs else None)

    add("the issue's table: medians of in-round ratios (min-max over rounds); targets: req/s >= 1.4 x php-fpm and")
    add(">= 1.2 x libfcgi, cpu per request <= 0.8 x libfcgi")
    add(f"  {'transport  scenario':<46}{'req/s vs php-fpm':>22}{'req/s vs libfcgi':>22}{'cpu/req vs libfcgi':>22}")
    for key in scen_order:
        s_m = medians.get(key + ("swift-fpm",))
        p_m = medians.get(key + ("php-fpm",))
        l_m = medians.get(key + ("libfcgi",))
        if not s_m:
            continue
        cells = []
        for o_m, field in ((p_m, "rps"), (l_m, "rps"), (l_m, "worker_cpu_us_per_req")):
            if not o_m:
                cells.append("-")
                continue
            m, lo, hi = in_round(s_m["runs"], o_m["runs"], field)
            cells.append(f"{fmt(m, 2)} ({fmt(lo, 2)}-{fmt(hi, 2)})" if m is not None else "-")
        transport, resp, mode, conns = key
        add(f"  {transport:<11}{label_of(resp, mode, conns):<35}{cells[0]:>22}{cells[1]:>22}{cells[2]:>22}")
    add("")
    add("memory per worker after the runs, kB (median of the samples right after each run; target for swift-fpm after")
    add("keepalive -c16: Private_Dirty <= 358 kB (0.35 MB), PSS <= 1024 kB)")
    add(f"  {'transport  scenario':<46}{'backend':<11}{'RSS':>9}{'PSS':>9}{'Priv_Dirty':>12}")
    for key in scen_order:
        transport, resp, mode, conns = key
        if resp != "small" or mode not in ("plain", "keepalive"):
            continue
        label = f"{transport:<11}{label_of(resp, mode, conns)}"
        for n in names:
            m = medians.get(key + (n,))
            if not m:
                continue
            samples = [r["memory"]["per_worker_kB"] for r in m["runs"] if r.get("memory") and r["memory"]["per_worker_kB"]]
            if not samples:
                continue
            v = {k: med([x.get(k) for x in samples]) for k in ("Rss", "Pss", "Private_Dirty")}
            add(f"  {label:<44}{n:<11}{fmt(v['Rss']):>9}{fmt(v['Pss']):>9}{fmt(v['Private_Dirty']):>12}")
            label = ""
    add("")
    add("memory per worker, kB, over all pid/plain runs (median; master in brackets)")
    add(f"  {'backend':<11}{'RSS':>9}{'PSS':>9}{'Priv_Dirty':>12}   master RSS/PSS")
    mem = {}
    for n in names:
        samples = [r["memory"] for r in results["runs"] if r["backend"] == n and r["mode"] == "plain" and "memory" in r and r["memory"]["per_worker_kB"]]
        if not samples:
            continue
        m = {k: med([s["per_worker_kB"].get(k) for s in samples]) for k in ("Rss", "Pss", "Private_Dirty")}
        mem[n] = m
        master = samples[-1].get("master_kB")
        ms = f"{fmt(master['Rss'])}/{fmt(master['Pss'])}" if master else "(no master: spawn-fcgi exited)"
        add(f"  {n:<11}{fmt(m['Rss']):>9}{fmt(m['Pss']):>9}{fmt(m['Private_Dirty']):>12}   {ms}")
    for other in ("php-fpm", "libfcgi"):
        if "swift-fpm" in mem and other in mem:
            s, o = mem["swift-fpm"], mem[other]
            add(f"  swift-fpm/{other:<9} RSS {fmt(ratio(s['Rss'], o['Rss']), 2)}  PSS {fmt(ratio(s['Pss'], o['Pss']), 2)}  "
                f"Private_Dirty {fmt(ratio(s['Private_Dirty'], o['Private_Dirty']), 2)}")
    if results["strace"]:
        add("")
        add(f"syscalls per request in the workers (strace -c on all workers during wrk -t1 -c{CONNS} 4 s; calls / wrk's requests)")
        for mode in ("", " keepalive"):
            for n in names:
                st = results["strace"].get(n + mode)
                if not st or "per_request" not in st:
                    continue
                top = ", ".join(f"{k} {v:g}" for k, v in list(st["per_request"].items())[:10])
                add(f"  {(n + mode):<20}{st['total_per_request']:>6.1f}/req  ({st['wrk_requests']} req)  {top}")
    if results["reload"]:
        add("")
        add(f"reload (SIGUSR2) with one {RELOAD_SLOW_MS} ms request in flight, then new requests one after another for ~{RELOAD_PROBE_SECONDS} s")
        add(f"(php-fpm: process_control_timeout = 10s; 'gap100': the new requests start 100 ms after SIGUSR2)")
        for n in ("swift-fpm", "php-fpm", "swift-fpm gap100", "php-fpm gap100"):
            r = results["reload"].get(n)
            if not r:
                continue
            slow = r["slow_request"]
            add(f"  {n:<17}longest wait {fmt(r['longest_wait_s'] * 1000 if r['longest_wait_s'] is not None else None, 1)} ms "
                f"(request sent {fmt(r['longest_started_at_s'], 2)} s after SIGUSR2), median {fmt(r['median_wait_ms'], 2)} ms, "
                f"{r['probes']} requests, {r['failures']} failed; slow request: {slow.get('status')} in {slow.get('seconds')} s; "
                f"workers replaced: {'yes' if r['workers_replaced'] else 'no'}")
    if results.get("incidents"):
        add("")
        add("INCIDENTS (runs during which a backend died are left out of the medians):")
        for i in results["incidents"]:
            add("  " + i)
    if results.get("interrupted"):
        add("")
        add(f"INCOMPLETE ({results['interrupted']}): partial results")
    add("=" * 100)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
