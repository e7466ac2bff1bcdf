#!/usr/bin/env python3
"""The driver behind `make bench-jobs` (bench/jobs.sh builds, then runs this).

One gearmand and one redis-server (temp dir, free ports on 127.0.0.1), and three ways of
running the same number of syncToRedis workers (examples/redis-sync), each fed the same
backlog of background jobs and writing to the same Redis:

  swift-pool  redis-sync (release) with a static job pool, handler = syncToRedis
  php-pool    the same binary with a static exec job pool running php/redis_worker.php
  php-bare    php/redis_worker.php started N times, nohup-style, no supervisor
  c-floor     (with --floor) bench/jobs-floor.c started N times bare: libgearman and a bare RESP
              socket doing the same round trips with nothing else, the floor any worker stands on

Each round, per mode: Redis flushed; JOBS jobs queued while no worker runs (pipelined
SUBMIT_JOB_BG, payloads as the trigger sends them: 1,000 rows, rising versions); the workers
started; the clock stops when gearmand's admin `status` shows no job of syncToRedis queued or
running; the workers stopped (SIGQUIT to the master, SIGTERM to bare PHP) and reaped. CPU per
job is the user+system time of the whole tree (the master's wait4 rusage includes its workers)
over JOBS, start-up and shutdown included; gearmand's and redis-server's CPU over the same
interval (/proc/PID/stat) say where the rest goes. Modes rotate each round; the table shows
medians and the ratios are taken within each round.

Every process started here is stopped by its pid; the temp dir is removed; all traffic stays
on 127.0.0.1; every loop has a deadline.
"""

import argparse
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(os.path.dirname(HERE), "examples", "redis-sync")
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(deadline_s, condition, interval=0.005):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def proc_cpu(pid):
    """user+system seconds of one running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def gearman_status(port, function="syncToRedis"):
    """(total, running, workers) of `function` in gearmand's admin status; zeros when unknown."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"status\n")
        data = b""
        while not data.endswith(b".\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode().splitlines():
        parts = line.split("\t")
        if len(parts) == 4 and parts[0] == function:
            return tuple(int(p) for p in parts[1:])
    return (0, 0, 0)


def submit_background(port, payloads, function="syncToRedis"):
    """SUBMIT_JOB_BG for each payload, pipelined in batches; waits for every JOB_CREATED."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        for start in range(0, len(payloads), 1000):
            batch = payloads[start:start + 1000]
            out = bytearray()
            for p in batch:
                body = function.encode() + b"\0\0" + p
                out += b"\0REQ" + struct.pack(">II", 18, len(body)) + body
            s.sendall(out)
            need, buf = len(batch), b""
            while need:
                buf += s.recv(65536)
                while len(buf) >= 12:
                    size = struct.unpack(">I", buf[8:12])[0]
                    if len(buf) < 12 + size:
                        break
                    if struct.unpack(">I", buf[4:8])[0] != 8:
                        raise SystemExit(f"gearmand answered type {struct.unpack('>I', buf[4:8])[0]}, not JOB_CREATED")
                    buf = buf[12 + size:]
                    need -= 1


def redis(port, *args):
    """One command, its raw reply (enough for FLUSHALL and DBSIZE)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
        return s.recv(4096)


class Bench:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="bench-jobs-")
        self.procs = []
        self.gport, self.rport = free_port(), free_port()
        self.gearmand = self.spawn(["/usr/sbin/gearmand", "--listen=127.0.0.1", f"--port={self.gport}",
                                    f"--log-file={self.dir}/gearmand.log", "--verbose=WARNING"], "gearmand.out")
        self.redis = self.spawn(["/usr/bin/redis-server", "--port", str(self.rport), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no", "--dir", self.dir], "redis.log")
        if not wait_until(10, lambda: self.reachable(self.gport) and self.reachable(self.rport)):
            raise SystemExit("gearmand or redis-server did not start")

    @staticmethod
    def reachable(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    def spawn(self, argv, log, env=None):
        out = open(os.path.join(self.dir, log), "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.procs.append(p)
        return p

    def conf(self, mode):
        n = self.args.workers
        pool = (f"[sync]\nhandler = syncToRedis\n" if mode == "swift-pool" else
                f"[phpsync]\nexec = /usr/bin/php8.2 {EXAMPLE}/php/redis_worker.php\n")
        path = os.path.join(self.dir, f"{mode}.conf")
        with open(path, "w") as f:
            f.write(f"[global]\npid = {self.dir}/{mode}.pid\nerror_log = {self.dir}/{mode}.log\n\n{pool}"
                    f"gearman.servers = 127.0.0.1:{self.gport}\ngearman.functions = syncToRedis\n"
                    f"pm = static\npm.max_children = {n}\nenv[REDIS_ADDRESS] = 127.0.0.1:{self.rport}\n")
        return path

    def start_workers(self, mode):
        env = dict(os.environ, REDIS_ADDRESS=f"127.0.0.1:{self.rport}", GEARMAN_SERVERS=f"127.0.0.1:{self.gport}",
                   SWIFT_FPM_RUNTIME_DIR=self.dir)
        if mode == "c-floor":
            env["SCRIPT"] = os.path.join(EXAMPLE, "sync_to_redis.lua")
            return [self.spawn([self.args.floor], "c-floor.out", env) for _ in range(self.args.workers)], signal.SIGTERM
        if mode == "php-bare":
            return [self.spawn(["/usr/bin/php8.2", f"{EXAMPLE}/php/redis_worker.php"], "php-bare.out", env)
                    for _ in range(self.args.workers)], signal.SIGTERM
        return [self.spawn([self.args.binary, "-F", "-R", "-y", self.conf(mode)], f"{mode}.out", env)], signal.SIGQUIT

    def stop(self, procs, sig):
        """Signals and reaps `procs`; their user+system seconds, descendants reaped by them included."""
        cpu = 0.0
        for p in procs:
            p.send_signal(sig)
        for p in procs:
            end = time.monotonic() + 30
            while True:
                pid, status, usage = os.wait4(p.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > end:
                    p.kill()
                    pid, status, usage = os.wait4(p.pid, 0)
                    break
                time.sleep(0.01)
            p.returncode = status
            self.procs.remove(p)
            cpu += usage.ru_utime + usage.ru_stime
        return cpu

    def run_one(self, mode):
        jobs = self.args.jobs
        redis(self.rport, b"FLUSHALL")
        payloads = [b'{"id": %d, "volume": %d, "version": %d}' % (i % 1000, i, i + 1) for i in range(jobs)]
        submit_background(self.gport, payloads)
        if gearman_status(self.gport)[0] != jobs:
            raise SystemExit(f"queued {gearman_status(self.gport)}, want {jobs}")
        g0, r0 = proc_cpu(self.gearmand.pid), proc_cpu(self.redis.pid)
        t0 = time.monotonic()
        procs, sig = self.start_workers(mode)
        if not wait_until(300, lambda: gearman_status(self.gport)[0] == 0, 0.002):
            raise SystemExit(f"{mode}: the backlog did not drain in 300 s")
        elapsed = time.monotonic() - t0
        g1, r1 = proc_cpu(self.gearmand.pid), proc_cpu(self.redis.pid)
        cpu = self.stop(procs, sig)
        keys = int(redis(self.rport, b"DBSIZE")[1:].split(b"\r")[0])
        if keys != min(jobs, 1000):
            raise SystemExit(f"{mode}: Redis has {keys} keys, want {min(jobs, 1000)}")
        return {"jobs_s": jobs / elapsed, "cpu_us": cpu / jobs * 1e6,
                "gearmand_us": (g1 - g0) / jobs * 1e6, "redis_us": (r1 - r0) / jobs * 1e6}

    def close(self):
        for p in list(self.procs):
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True, help="the release redis-sync binary")
    ap.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_JOBS_WORKERS", 3)))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("BENCH_JOBS", 20000)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    ap.add_argument("--floor", help="bench/jobs-floor.c built: adds the c-floor mode")
    args = ap.parse_args()
    modes = ["swift-pool", "php-pool", "php-bare"] + (["c-floor"] if args.floor else [])
    bench = Bench(args)
    results = {m: [] for m in modes}
    try:
        for r in range(args.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            for mode in order:
                results[mode].append(bench.run_one(mode))
                res = results[mode][-1]
                print(f"round {r + 1} {mode:10} {res['jobs_s']:9.0f} jobs/s  {res['cpu_us']:6.1f} us CPU/job"
                      f"  (gearmand {res['gearmand_us']:.1f}, redis {res['redis_us']:.1f})", flush=True)
    finally:
        bench.close()

    def med(mode, key):
        return statistics.median(x[key] for x in results[mode])

    def ratio(a, b, key):
        rs = [x[key] / y[key] for x, y in zip(results[a], results[b])]
        return f"{statistics.median(rs):.2f}x ({min(rs):.2f}-{max(rs):.2f})"

    print(f"\n{args.workers} workers, {args.jobs} jobs, {args.rounds} rounds (medians)")
    print(f"{'mode':11} {'jobs/s':>9} {'CPU/job':>10} {'gearmand/job':>13} {'redis/job':>10}")
    for m in modes:
        print(f"{m:11} {med(m, 'jobs_s'):9.0f} {med(m, 'cpu_us'):8.1f}us {med(m, 'gearmand_us'):11.1f}us {med(m, 'redis_us'):8.1f}us")
    print(f"\nratios within a round, median (min-max):")
    print(f"swift-pool / php-bare: jobs/s {ratio('swift-pool', 'php-bare', 'jobs_s')} (target >= 1.2),"
          f" CPU/job {ratio('swift-pool', 'php-bare', 'cpu_us')} (target <= 0.5)")
    print(f"php-pool / php-bare:   jobs/s {ratio('php-pool', 'php-bare', 'jobs_s')},"
          f" CPU/job {ratio('php-pool', 'php-bare', 'cpu_us')} (supervision: target within 5 %)")
    if args.floor:
        print(f"c-floor / php-bare:    jobs/s {ratio('c-floor', 'php-bare', 'jobs_s')},"
              f" CPU/job {ratio('c-floor', 'php-bare', 'cpu_us')} (the best any worker could do here)")
        print(f"swift-pool / c-floor:  jobs/s {ratio('swift-pool', 'c-floor', 'jobs_s')},"
              f" CPU/job {ratio('swift-pool', 'c-floor', 'cpu_us')}")


if __name__ == "__main__":
    main()
