#!/usr/bin/env python3
"""The soak of issue 9 (scripts/soak.sh builds in release, then runs this; not part of make test).

One million requests (SOAK_REQUESTS) through nginx into a swift-fpm pool of 4 (fpm-testapp,
pm = static), in two modes, one after the other on the same master and workers:

  plain       nginx opens a new FastCGI connection per request
  keepalive   nginx upstream `keepalive` + `fastcgi_keep_conn on` (kept connections)

wrk drives GET /pid in runs of SOAK_CHUNK seconds until the mode has its count. Recorded per
mode, at the start and at the end: each worker's pid, RSS / PSS / private dirty
(/proc/PID/smaps_rollup) and open descriptors (/proc/PID/fd), the master's too, the runtime
files in /dev/shm, nginx's error-log lines; the errors wrk saw (socket errors + non-2xx).

It reuses bench/bench.py's process handling (every process started here is stopped by pid; the
temp dir is removed; traffic stays on 127.0.0.1; every loop is bounded).
Results: bench/out/soak-<timestamp>/results.json and summary.txt, and the summary on stdout.
"""

import argparse
import json
import math
import os
import signal
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


REQUESTS = env_int("SOAK_REQUESTS", 1_000_000)
WORKERS = env_int("SOAK_WORKERS", 4)
CHUNK = env_int("SOAK_CHUNK", 10)
CONNS = env_int("SOAK_CONNS", 16)
THREADS = env_int("SOAK_THREADS", 2)
MODES = [m for m in os.environ.get("SOAK_MODES", "plain,keepalive").split(",") if m]

# bench.py reads its knobs at import: the pool size and the keepalive cache come from here.
os.environ["BENCH_WORKERS"] = str(WORKERS)
sys.path.insert(0, HERE)
import bench  # noqa: E402


def log(msg):
    print(f"soak: {msg}", flush=True)


def descriptors(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except (FileNotFoundError, PermissionError):
        return None


def runtime_files(master_pid):
    try:
        names = os.listdir("/dev/shm")
    except FileNotFoundError:
        return {"own": [], "all": 0}
    mine = [n for n in names if n.startswith(f"swift-fpm.{master_pid}.")]
    return {"own": sorted(mine), "all": len([n for n in names if n.startswith("swift-fpm.")])}


def snapshot(backend, ngx):
    workers = backend.worker_pids()
    master = backend.master_pid()
    return {
        "time": time.time(),
        "master": {"pid": master, "fds": descriptors(master), "kB": bench.smaps_rollup(master)},
        "workers": [{"pid": p, "fds": descriptors(p), "kB": bench.smaps_rollup(p)} for p in workers],
        "runtime_files": runtime_files(master),
        "nginx_error_lines": nginx_error_lines(ngx),
    }


def nginx_error_lines(ngx):
    try:
        with open(os.path.join(ngx.dir, "error.log")) as f:
            return sum(1 for line in f if "[error]" in line or "[crit]" in line or "[alert]" in line)
    except FileNotFoundError:
        return 0


def run_mode(mode, backend, ngx, out_dir):
    url = f"http://127.0.0.1:{ngx.ports[mode]}{backend.urls['small']}"
    start = snapshot(backend, ngx)
    total = {"requests": 0, "errors": 0, "non2xx": 0, "socket_errors": {}, "seconds": 0.0, "chunks": 0}
    # Bounded: at most 4× the chunks the count needs at 1,000 requests/s.
    max_chunks = max(1, math.ceil(REQUESTS / (1000 * CHUNK))) * 4
    t0 = time.monotonic()
    while total["requests"] < REQUESTS and total["chunks"] < max_chunks:
        if not backend.alive():
            log(f"{mode}: the backend is not running (master {backend.master_pid()}, workers {backend.worker_pids()})")
            total["incident"] = "backend died"
            break
        w = bench.run_wrk(url, CHUNK, conns=CONNS, threads=THREADS,
                          save=os.path.join(out_dir, f"wrk-{mode}-{total['chunks']:03d}.txt"))
        total["chunks"] += 1
        total["requests"] += w["requests"]
        total["errors"] += w["errors"]
        total["non2xx"] += w["non2xx"]
        for k, v in w["socket_errors"].items():
            total["socket_errors"][k] = total["socket_errors"].get(k, 0) + v
        log(f"{mode}: {total['requests']:>9,} requests, {total['errors']} errors ({w['rps'] or 0:,.0f} req/s this run)")
    total["seconds"] = round(time.monotonic() - t0, 1)
    total["rps"] = round(total["requests"] / total["seconds"]) if total["seconds"] else None
    end = snapshot(backend, ngx)
    return {"mode": mode, "url": url, "totals": total, "start": start, "end": end}


def describe(r):
    t = r["totals"]
    s, e = r["start"], r["end"]

    def workers_line(snap):
        parts = []
        for w in snap["workers"]:
            k = w["kB"]
            parts.append(f"{w['pid']}: RSS {k.get('Rss', '?')} kB, PSS {k.get('Pss', '?')} kB, "
                         f"private dirty {k.get('Private_Dirty', '?')} kB, {w['fds']} fds")
        return "; ".join(parts)

    same = [w["pid"] for w in s["workers"]] == [w["pid"] for w in e["workers"]]
    return "\n".join([
        f"{r['mode']}: {t['requests']:,} requests in {t['seconds']} s ({t['rps']:,} req/s), "
        f"{t['errors']} errors (non-2xx {t['non2xx']}, socket {t['socket_errors']}), {t['chunks']} wrk runs",
        f"  workers at start: {workers_line(s)}",
        f"  workers at end:   {workers_line(e)}",
        f"  same worker pids at start and end: {'yes' if same else 'no'}",
        f"  master {s['master']['pid']}: {s['master']['fds']} fds → {e['master']['fds']}, "
        f"RSS {s['master']['kB'].get('Rss')} kB → {e['master']['kB'].get('Rss')} kB",
        f"  runtime files in /dev/shm (this master's): {len(s['runtime_files']['own'])} → {len(e['runtime_files']['own'])}; "
        f"nginx error lines: {s['nginx_error_lines']} → {e['nginx_error_lines']}",
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True, help="folder with the release fpm-testapp")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out_dir = os.path.join(args.out, f"soak-{stamp}")
    os.makedirs(out_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="swift-fpm-soak-")
    procs = bench.Processes()
    results = {"requests_per_mode": REQUESTS, "workers": WORKERS, "conns": CONNS, "threads": THREADS,
               "chunk_seconds": CHUNK, "versions": bench.versions(), "modes": []}

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        backend = bench.SwiftFPM(procs, tmp, bench.free_port(), args.bin)
        backend.start()
        www = os.path.join(tmp, "www")
        os.makedirs(www, exist_ok=True)
        ngx = bench.Nginx(procs, tmp, backend, www)
        ngx.start()
        log(f"swift-fpm master {backend.master_pid()}, workers {backend.worker_pids()}; nginx ports {ngx.ports}")
        for mode in MODES:
            results["modes"].append(run_mode(mode, backend, ngx, out_dir))
            log(describe(results["modes"][-1]))
    except KeyboardInterrupt:
        results["interrupted"] = True
    finally:
        procs.stop_all()
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    summary = "\n".join(describe(r) for r in results["modes"]) + "\n"
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    with open(os.path.join(out_dir, "summary.txt"), "w") as f:
        f.write(summary)
    print("=" * 100)
    print(summary, end="")
    print(f"(results in {out_dir})")
    errors = sum(r["totals"]["errors"] for r in results["modes"])
    short = any(r["totals"]["requests"] < REQUESTS for r in results["modes"])
    return 1 if errors or short or results.get("interrupted") else 0


if __name__ == "__main__":
    sys.exit(main())
