#!/usr/bin/env python3
"""pm.warm_template's scenario (issue #23): what the workers' memory and an ondemand pool's first
request cost when the app builds a 64 MiB table once per pool (warmUp, in the pool's warm template)
against once per worker (setUp, without the template).

    bench/warm-template.py BIN_DIR        (BIN_DIR holds fpm-testapp; `make bench-warm` builds it)

Knobs (environment): WARM_MB (64), WARM_WORKERS (8), WARM_ROUNDS (5: ondemand first requests per
variant, each on a fresh master).

Per variant, a static pool of WARM_WORKERS workers: every worker serves /warm (one byte of each
4 KiB page of the table read) at least once, then PSS and private dirty of each worker are read
from /proc/PID/smaps_rollup. Variants: the template with the table as a WarmTable (contiguous
bytes: the pattern the API documents), the template with the same bytes as one class instance
per page (what reference counting does to shared pages), and no template (setUp builds it).
Then an ondemand pool (max_children 1): the time from sending the first request to its answer,
which includes the master noticing the connection and asking for the fork.
"""
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

MB = int(os.environ.get("WARM_MB", "64"))
WORKERS = int(os.environ.get("WARM_WORKERS", "8"))
ROUNDS = int(os.environ.get("WARM_ROUNDS", "5"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fcgi_get(port, uri, timeout=30.0):
    """One FastCGI GET on a new connection; the STDOUT bytes."""
    def record(kind, content, rid=1):
        return struct.pack(">BBHHBx", 1, kind, rid, len(content), 0) + content

    def pair(name, value):
        def length(n):
            return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
        return length(len(name)) + length(len(value)) + name + value

    path, _, query = uri.partition("?")
    params = b"".join(pair(k.encode(), v.encode()) for k, v in [
        ("REQUEST_METHOD", "GET"), ("SCRIPT_NAME", path), ("REQUEST_URI", uri), ("DOCUMENT_URI", path),
        ("QUERY_STRING", query), ("SERVER_PROTOCOL", "HTTP/1.1"), ("GATEWAY_INTERFACE", "CGI/1.1")])
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(record(1, struct.pack(">HB5x", 1, 0)) + record(4, params) + record(4, b"") + record(5, b""))
        out, buf = b"", b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed before END_REQUEST")
            buf += chunk
            while len(buf) >= 8:
                _, kind, _, clen, plen = struct.unpack(">BBHHB", buf[:7])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if kind == 6:
                    out += content
                elif kind == 3:
                    return out


def rollup(pid):
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "kB":
                values[parts[0].rstrip(":")] = int(parts[1])
    return values


class Master:
    def __init__(self, bin_dir, pool_lines, expect_setups):
        self.dir = tempfile.mkdtemp(prefix="warm-bench-")
        self.port = free_port()
        conf = os.path.join(self.dir, "fpm.conf")
        with open(conf, "w") as f:
            f.write(f"[global]\npid = {self.dir}/fpm.pid\nerror_log = {self.dir}/error.log\n\n"
                    f"[www]\nlisten = 127.0.0.1:{self.port}\nhandler = testapp\n"
                    f"env[TESTAPP_EVENTS] = {self.dir}/events\nenv[TESTAPP_WARM_MB] = {MB}\n{pool_lines}\n")
        env = dict(os.environ, SWIFT_FPM_RUNTIME_DIR=self.dir)
        self.proc = subprocess.Popen([os.path.join(bin_dir, "fpm-testapp"), "-F", "-R", "-y", conf], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.time() + 120
        while time.time() < deadline:
            if "ready to handle connections" in self.log() and len(self.setups()) >= expect_setups:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("fpm did not start:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def setups(self):
        try:
            with open(os.path.join(self.dir, "events")) as f:
                return [int(l.split()[1]) for l in f if l.startswith("setup ")]
        except OSError:
            return []

    def template_pids(self):
        return [int(l.split("warm template ")[1].split()[0]) for l in self.log().splitlines()
                if "warm template " in l and l.endswith(" started")]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def memory(bin_dir, label, pool_lines):
    m = Master(bin_dir, f"pm = static\npm.max_children = {WORKERS}\n{pool_lines}", WORKERS)
    try:
        workers = m.setups()[:WORKERS]
        served = set()
        for _ in range(4):
            # WORKERS requests at once, each holding its worker: every worker reads the table.
            answers = []
            threads = [threading.Thread(target=lambda: answers.append(fcgi_get(m.port, "/warm?hold=300")))
                       for _ in range(WORKERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            served.update(int(a.decode(errors="replace").split(" pid ")[1].split()[0]) for a in answers)
        figures = [rollup(p) for p in workers]
        pss = sum(f.get("Pss", 0) for f in figures) / 1024
        dirty = [f.get("Private_Dirty", 0) / 1024 for f in figures]
        template = m.template_pids()
        tpss = rollup(template[-1]).get("Pss", 0) / 1024 if template else 0
        print(f"| {label} | {len(served)}/{WORKERS} | {pss:.1f} | {pss / WORKERS:.1f} | "
              f"{statistics.median(dirty):.1f} | {tpss:.1f} |", flush=True)
        return pss
    finally:
        m.stop()


def first_request(bin_dir, label, pool_lines):
    times = []
    for _ in range(ROUNDS):
        m = Master(bin_dir, f"pm = ondemand\npm.max_children = 1\npm.process_idle_timeout = 60s\n{pool_lines}", 0)
        try:
            if "pm.warm_template = yes" in pool_lines:
                deadline = time.time() + 60
                while "ready: warmUp took" not in m.log() and time.time() < deadline:
                    time.sleep(0.01)
            start = time.perf_counter()
            fcgi_get(m.port, "/warm")
            times.append((time.perf_counter() - start) * 1000)
        finally:
            m.stop()
    times.sort()
    print(f"| {label} | {statistics.median(times):.1f} | {times[0]:.1f} | {times[-1]:.1f} |", flush=True)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    bin_dir = os.path.abspath(sys.argv[1])
    print(f"## warm template: {MB} MiB table, {WORKERS} workers ({bin_dir})\n")
    print("| variant | workers that read the table | PSS of the workers, MB | per worker | private dirty per worker (median), MB | template PSS, MB |")
    print("|---|---|---|---|---|---|")
    memory(bin_dir, "pm.warm_template = yes, WarmTable", "pm.warm_template = yes")
    memory(bin_dir, "pm.warm_template = yes, one object per page", "pm.warm_template = yes\nenv[TESTAPP_WARM_OBJECTS] = 1")
    memory(bin_dir, "no template (setUp builds it)", "")
    print(f"\nTarget: ≤ 1.5 × {MB} + {WORKERS} × 1 = {1.5 * MB + WORKERS:.0f} MB for the {WORKERS} workers with the template.\n")
    print(f"## ondemand first request, from sending it to its answer (ms, {ROUNDS} fresh masters each)\n")
    print("| variant | median | min | max |")
    print("|---|---|---|---|")
    first_request(bin_dir, "pm.warm_template = yes", "pm.warm_template = yes")
    first_request(bin_dir, "no template (setUp builds it)", "")
    print("\nTarget: ≤ 20 ms with the template.")


if __name__ == "__main__":
    main()
