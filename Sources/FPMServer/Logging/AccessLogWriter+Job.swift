import FPMSystem

/// A job pool's access log: one line per job, in the pool's `access.format`, its %-codes read
/// for a job (docs/JOBS.md): `%R` the job server, `%m` `JOB`, `%r` and `%{GEARMAN_FUNCTION}e`
/// the function, `%f` and `%{GEARMAN_HANDLE}e` the handle, `%q` and `%{GEARMAN_UNIQUE}e` the
/// unique id, `%l` the payload's length, `%s` the outcome as a status (200 WORK_COMPLETE, 422
/// WORK_FAIL, 500 WORK_EXCEPTION; `%{GEARMAN_OUTCOME}e`: complete, fail, exception), `%d`,
/// `%t`, `%T`, `%C`, `%M`, `%n`, `%p`, `%P` as for a request.
extension AccessLogWriter {
    func writeJob(function: String, handle: String, unique: String, payloadLength: Int, outcome: ServerJobOutcome,
                  server: String, pool: String, pid: Int32, masterPID: Int32, startWall: (seconds: Int, microseconds: Int),
                  durationMicros: Int, cpuUserMicros: Int, cpuSystemMicros: Int, memory: Int) {
        buffer.removeAll(keepingCapacity: true)
        let end = SystemClock.wallClock()
        let record = AccessLogRecord(
            remoteAddr: server, method: "JOB", requestURI: function, queryString: unique, scriptFilename: handle,
            contentLength: payloadLength, status: Self.status(of: outcome),
            startSeconds: startWall.seconds, startMicroseconds: startWall.microseconds,
            endSeconds: end.seconds, endMicroseconds: end.microseconds, durationMicroseconds: durationMicros,
            cpuUserSeconds: Double(cpuUserMicros) / 1e6, cpuSystemSeconds: Double(cpuSystemMicros) / 1e6,
            memoryBytes: memory, pool: pool, pid: pid, ppid: masterPID,
            parameter: { name in
                switch name {
                case "GEARMAN_FUNCTION": function
                case "GEARMAN_HANDLE": handle
                case "GEARMAN_UNIQUE": unique
                case "GEARMAN_OUTCOME": outcome.word
                default: nil
                }
            })
        _ = format.render(record, into: &buffer)
        buffer.withUnsafeBytes { try? FileIO.writeAll(fd, $0) }
    }

    /// `%s` of a job line.
    static func status(of outcome: ServerJobOutcome) -> Int {
        switch outcome {
        case .completed: 200
        case .failed: 422
        case .exception: 500
        }
    }
}
