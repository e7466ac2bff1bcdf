import FPMStatus
import FPMSystem
import Gearman
import GearmanClient

/// One job: the scoreboard slot busy with it (the function as the request URI, the handle as
/// the script: the master's request watch, slowlog and terminate timeout then work as for a
/// request), the handler run, the outcome reported to gearmand only then, the figures and the
/// access-log line.
extension JobWorker: JobReports {
    func serve(_ job: GearmanJob, from link: ServerLink) {
        let started = SystemClock.monotonicNanos()
        let startWall = SystemClock.wallClock()
        let cpuBefore = lastCPU
        slot.beginRequest(now: started, epochMicros: SystemClock.epochMicros())
        var method = "JOB", function = job.function, handle = job.handle
        method.withUTF8 { m in
            function.withUTF8 { f in
                handle.withUTF8 { h in
                    slot.requestInfo(method: UnsafeRawBufferPointer(m), uri: UnsafeRawBufferPointer(f), query: nil,
                                     script: UnsafeRawBufferPointer(h), user: nil, contentLength: job.payload.count, now: started)
                }
            }
        }
        current = link
        let outcome = runner.run(ServerJob(function: job.function, handle: job.handle, unique: job.unique, payload: job.payload),
                                 reports: self)
        current = nil
        // The report goes out with the next grab (one write; see `grabRound`), or alone before
        // the worker sleeps, leaves or grabs elsewhere: never dropped while the link lives.
        if let worker = link.worker {
            switch outcome {
            case .completed(let result):
                worker.completeLater(job, result: result)
            case .failed:
                worker.failLater(job)
            case .exception(let text):
                // As libgearman's worker: WORK_EXCEPTION alone. gearmand (1.1) ends the job
                // with it, passing it and a WORK_FAIL to clients that asked for exceptions; a
                // WORK_FAIL of ours after it would be answered JOB_NOT_FOUND.
                worker.exceptionLater(job, message: Array(text.utf8))
            }
        }
        if case .exception(let text) = outcome {
            log.warning("\(prefix): job \(job.handle) (\(job.function)) failed: \(text)")
        }
        served += 1
        var failed = true
        if case .completed = outcome { failed = false }
        pool.scoreboard.countJob(failed: failed)
        pool.scoreboard.countAcceptedConnection()
        let now = SystemClock.monotonicNanos()
        let (cpu, memory) = Processes.usage()
        lastCPU = cpu
        peakMemory = memory
        slot.endRequest(now: now, cpuUserMicros: cpu.user - cpuBefore.user, cpuSystemMicros: cpu.system - cpuBefore.system,
                        memory: memory)
        slot.markIdle(now: now)
        pool.accessLog?.writeJob(function: job.function, handle: job.handle, unique: job.unique, payloadLength: job.payload.count,
                                 outcome: outcome, server: link.address.description, pool: pool.name, pid: pid,
                                 masterPID: masterPID, startWall: startWall, durationMicros: (now - started) / 1000,
                                 cpuUserMicros: cpu.user - cpuBefore.user, cpuSystemMicros: cpu.system - cpuBefore.system,
                                 memory: memory)
    }

    // MARK: JobReports

    func progress(handle: String, done: Int, of total: Int) throws {
        guard let link = current, let worker = link.worker else { return }
        try worker.connection.send(.workStatus(handle: handle, numerator: done, denominator: total))
    }

    func data(handle: String, _ bytes: [UInt8]) throws {
        guard let link = current, let worker = link.worker else { return }
        try worker.connection.send(.workData(handle: handle, data: bytes))
    }
}
