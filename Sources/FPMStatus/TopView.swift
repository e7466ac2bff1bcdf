/// `fpmctl top`'s screen as a pure function of what it shows: one snapshot of every pool and
/// worker in, the frame's text out. The command gathers the snapshot (scoreboards, /proc) and
/// handles the terminal; what an operator reads is decided, and unit-tested, here.
package enum TopView {
    /// Everything one frame shows.
    package struct Snapshot: Sendable, Equatable {
        package var masterPID: Int32
        package var generation: Int
        /// The master's phase as the state file says it (`running`, `handover`, …).
        package var phase: String
        /// Wall-clock time of the snapshot, already formatted (`23:41:02`).
        package var clock: String
        package var pools: [Pool]

        package init(masterPID: Int32, generation: Int, phase: String, clock: String, pools: [Pool]) {
            self.masterPID = masterPID
            self.generation = generation
            self.phase = phase
            self.clock = clock
            self.pools = pools
        }
    }

    package struct Pool: Sendable, Equatable {
        package var status: PoolStatus
        package var workers: [Worker]

        package init(status: PoolStatus, workers: [Worker]) {
            self.status = status
            self.workers = workers
        }
    }

    package struct Worker: Sendable, Equatable {
        package var process: ProcessStatus
        /// Percent of one CPU over the last interval (or over its life, for a first frame);
        /// nil when /proc could not tell.
        package var cpuPercent: Double?
        /// Resident memory, bytes; nil when /proc could not tell.
        package var residentBytes: Int?

        package init(process: ProcessStatus, cpuPercent: Double?, residentBytes: Int?) {
            self.process = process
            self.cpuPercent = cpuPercent
            self.residentBytes = residentBytes
        }
    }

    /// The column heads of the worker table.
    package static let header = "    PID STAGE              REQS  DURATION   CPU%      RSS  REQUEST"

    /// The frame: a title line, then per pool a summary line, the column heads and one line
    /// per worker (busy ones first, then by pid). Lines are cut at `width` columns; with
    /// `height`, workers that do not fit are counted in a last line instead of scrolling.
    package static func render(_ snapshot: Snapshot, width: Int = 132, height: Int? = nil) -> String {
        var lines: [String] = []
        lines.append("swift-fpm master \(snapshot.masterPID), generation \(snapshot.generation), \(snapshot.phase) - \(snapshot.clock) - q quits")
        for pool in snapshot.pools {
            let s = pool.status
            let limit = s.maxChildren.map { " of \($0)" } ?? ""
            lines.append("")
            if let jobs = s.jobs {
                // A job pool: gearmand's backlog instead of a listen queue; the URI column is the function.
                lines.append("job pool \(s.pool) (\(s.processManager)): \(s.activeProcesses) active, \(s.idleProcesses) idle, \(s.totalProcesses) total\(limit); gearmand \(jobs.gearman), backlog \(jobs.backlog); jobs done \(jobs.jobsDone), failed \(jobs.jobsFailed), in progress \(jobs.jobsInProgress); restarts \(jobs.restarts); slow \(s.slowRequests)")
            } else {
                lines.append("pool \(s.pool) (\(s.processManager)): \(s.activeProcesses) active, \(s.idleProcesses) idle, \(s.totalProcesses) total\(limit); queue \(s.listenQueue)/\(s.listenQueueLen); accepted \(s.acceptedConn); slow \(s.slowRequests); max children reached \(s.maxChildrenReached)")
            }
            lines.append(header)
            let ordered = pool.workers.sorted { a, b in
                let busyA = a.process.state != .idle, busyB = b.process.state != .idle
                return busyA != busyB ? busyA : a.process.pid < b.process.pid
            }
            for worker in ordered { lines.append(row(worker)) }
            if ordered.isEmpty { lines.append("    (no workers)") }
        }
        if let height, height > 1, lines.count > height {
            let hidden = lines.count - (height - 1)
            lines = Array(lines.prefix(height - 1)) + ["... \(hidden) more lines (enlarge the terminal)"]
        }
        return lines.map { cut($0, width) }.joined(separator: "\n") + "\n"
    }

    /// One worker's line.
    package static func row(_ w: Worker) -> String {
        let p = w.process
        let request: String
        if p.state == .idle {
            request = p.requests == 0 ? "-" : "(last) \(p.requestMethod) \(uri(p))"
        } else {
            request = "\(p.requestMethod) \(uri(p))"
        }
        return pad(String(p.pid), 7, right: true) + " " + pad(p.state.rawValue, 18) + " "
            + pad(String(p.requests), 5, right: true) + " " + pad(duration(p.requestDuration), 9, right: true) + " "
            + pad(w.cpuPercent.map { TextRendering.fixed($0, decimals: 1) } ?? "-", 6, right: true) + " "
            + pad(w.residentBytes.map(bytes) ?? "-", 8, right: true) + "  " + request
    }

    /// The title line's clock: local `HH:MM:SS`.
    package static func clock(epoch: Int) -> String {
        TextRendering.time(epoch: epoch, format: "%H:%M:%S")
    }

    static func uri(_ p: ProcessStatus) -> String {
        p.queryString.isEmpty ? p.requestURI : "\(p.requestURI)?\(p.queryString)"
    }

    /// Microseconds as `850us`, `12.3ms`, `1.25s`, `2m05s`.
    package static func duration(_ micros: Int) -> String {
        if micros < 1000 { return "\(micros)us" }
        if micros < 1_000_000 { return TextRendering.fixed(Double(micros) / 1000, decimals: 1) + "ms" }
        if micros < 60_000_000 { return TextRendering.fixed(Double(micros) / 1e6, decimals: 2) + "s" }
        let seconds = micros / 1_000_000
        let rest = seconds % 60
        return "\(seconds / 60)m\(rest < 10 ? "0" : "")\(rest)s"
    }

    /// Bytes as `512B`, `12.0K`, `14.2M`, `1.50G`.
    package static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n)B" }
        if n < 1 << 20 { return TextRendering.fixed(Double(n) / 1024, decimals: 1) + "K" }
        if n < 1 << 30 { return TextRendering.fixed(Double(n) / 1_048_576, decimals: 1) + "M" }
        return TextRendering.fixed(Double(n) / 1_073_741_824, decimals: 2) + "G"
    }

    static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let count = s.count
        guard count < width else { return s }
        let fill = String(repeating: " ", count: width - count)
        return right ? fill + s : s + fill
    }

    static func cut(_ s: String, _ width: Int) -> String {
        s.count > width ? String(s.prefix(max(0, width))) : s
    }
}
