import FPMConfiguration
import FPMStatus
import FPMSystem
import Glibc

/// Requests watched against their time limits from the scoreboard: request_slowlog_timeout
/// (a log line and a slowlog entry) and request_terminate_timeout (the worker is stopped
/// through process control).
extension Master {
    /// How long after request_terminate_timeout the master stops a worker that answers its
    /// own timeouts.
    static let workerAnswerGrace = 1.0

    /// request_terminate_timeout and request_slowlog_timeout, checked on the heartbeat.
    func checkRequestTimeouts(now: Int) {
        // One stack per heartbeat: each worker's frames follow its own header in the slowlog.
        var traced = false
        let watched = poolsWithRequestTimeouts
        guard !watched.isEmpty else { return }
        let workers = control.currentByPool()
        for pool in watched {
            let terminate = pool.config.requestTerminateTimeout
            let slow = pool.config.requestSlowlogTimeout
            for child in workers[pool.name] ?? [] {
                let pid = child.pid
                guard let slot = child.slot, let snap = pool.scoreboard.snapshot(slot) else { continue }
                let trackFinished = pool.config.requestTerminateTimeoutTrackFinished
                guard snap.stage == .readingHeaders || snap.stage == .gettingInfo || snap.stage == .running
                        || (trackFinished && snap.stage == .finishing) else {
                    slowLogged.remove(pid)
                    continue
                }
                let elapsed = Double(now - snap.acceptedMono) / 1e9
                let request = "\(snap.method) \(snap.uri)\(snap.query.isEmpty ? "" : "?" + snap.query)"
                if slow > 0 && elapsed >= Double(slow) && !slowLogged.contains(pid) && !traced {
                    slowLogged.insert(pid)
                    traced = pool.config.exec == nil
                    pool.scoreboard.countSlowRequest()
                    log.warning("[pool \(pool.name)] child \(pid), script '\(snap.script)' (request: \"\(request)\") executing too slow (\(TextRendering.fixed(elapsed, decimals: 6)) sec), logging")
                    writeSlowlog(pool: pool, pid: pid, snap: snap)
                }
                // A handler's worker answers 504 itself at the deadline (LastAnswer): the
                // master's SIGTERM is the backstop, a second later so it never cuts that answer.
                let grace = pool.config.exec == nil ? Self.workerAnswerGrace : 0
                if terminate > 0 && elapsed >= Double(terminate) + grace && !control.isBeingTerminated(pid) {
                    log.warning("[pool \(pool.name)] child \(pid), script '\(snap.script)' (request: \"\(request)\") execution timed out (\(TextRendering.fixed(elapsed, decimals: 6)) sec), terminating")
                    handle(.requestTimedOut(pid: pid, now: now))
                }
            }
        }
    }

    /// A worker died of a crash signal: the request it was serving (its client got a 500 from
    /// the worker's last answer), beside php-fpm's "exited on signal" line.
    func logCrashedRequest(pid: pid_t) {
        guard let child = control.children[pid], child.generation == control.generation,
              let pool = poolsByName[child.pool] else { return }
        guard let slot = child.slot, let snap = pool.scoreboard.snapshot(slot), snap.isActive else { return }
        let request = "\(snap.method) \(snap.uri)\(snap.query.isEmpty ? "" : "?" + snap.query)"
        log.warning("[pool \(pool.name)] child \(pid), script '\(snap.script)' (request: \"\(request)\") crashed while serving it; the client was answered 500")
    }

    func writeSlowlog(pool: PoolRuntime, pid: pid_t, snap: Scoreboard.SlotSnapshot) {
        guard let path = pool.config.slowlog, let fd = try? FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600) else { return }
        defer { FileIO.close(fd) }
        let stamp = TextRendering.time(epoch: SystemClock.epochSeconds(), format: "[%d-%b-%Y %H:%M:%S]")
        var text = "\n\(stamp)  [pool \(pool.name)] pid \(pid)\n"
        text += "script_filename = \(snap.script)\n"
        text += "request = \(snap.method) \(snap.uri)\(snap.query.isEmpty ? "" : "?" + snap.query)\n"
        // The request's identity (RequestIdentity), when the worker recorded it: the entry
        // matches its access log line (`%I`) and its trace.
        if !snap.requestID.isEmpty { text += "request_id = \(snap.requestID)\n" }
        if !snap.traceID.isEmpty { text += "trace_id = \(snap.traceID)\n" }
        try? FileIO.writeAll(fd, text)
        // The worker appends its own stack (`SlowlogTrace`); an exec'd program has no handler.
        if pool.config.exec == nil { SlowlogTrace.request(from: pid) }
    }
}
