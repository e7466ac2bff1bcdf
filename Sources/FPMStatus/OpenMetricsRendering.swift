/// swift-fpm's OpenMetrics families beyond php-fpm's: the pool's limits, the request-duration
/// histogram, and (with `full`) one series per worker. They come after php-fpm's families,
/// which keep php-fpm's names and types (``StatusPage``). Per-worker series are only written
/// under `full`, because a `pid` label makes a new series for every new worker.
///
/// Counters under `strict`: OpenMetrics names a counter family without the `_total` its samples
/// carry (`# TYPE x counter`, `x_total 3`), while the Prometheus text format, which
/// `promtool check metrics` lints, names the family after the sample (`# TYPE x_total counter`);
/// each reads the other's counter as a clash or as a family with no help. So the strict page
/// writes a counter as the one family both read the same: `# HELP x_total …` and `x_total 3`,
/// of unknown type (PromQL's `rate()` does not need the type). Everything else keeps its type.
enum OpenMetricsRendering {
    /// The `le` label of each finite bucket, in OpenMetrics' canonical form (`1.0`, not `1`).
    static let bucketLabels: [String] = Scoreboard.durationBucketsMicros.map { micros in
        var s: [UInt8] = []
        TextRendering.appendFixed(Double(micros) / 1e6, decimals: 3, to: &s)
        var text = String(decoding: s, as: UTF8.self)
        while text.hasSuffix("0") && !text.hasSuffix(".0") { text.removeLast() }
        return text
    }

    static func appendAdditions(_ pool: PoolStatus, _ processes: [ProcessStatus]?, strict: Bool, into out: inout [UInt8]) {
        if let limits = pool.limits { appendLimits(limits, into: &out) }
        if let jobs = pool.jobs { jobs.appendMetrics(strict: strict, into: &out) }
        if let histogram = pool.requestDurations { appendHistogram(histogram, job: pool.jobs != nil, into: &out) }
        if let processes, !processes.isEmpty { appendProcesses(processes, strict: strict, into: &out) }
    }

    private static func appendLimits(_ limits: Scoreboard.Limits, into out: inout [UInt8]) {
        StatusPage.metric("start_servers", "The number of child processes created on startup (pm.start_servers).",
                          .gauge, limits.startServers, into: &out)
        StatusPage.metric("min_spare_servers", "The desired minimum number of idle processes (pm.min_spare_servers).",
                          .gauge, limits.minSpareServers, into: &out)
        StatusPage.metric("max_spare_servers", "The desired maximum number of idle processes (pm.max_spare_servers).",
                          .gauge, limits.maxSpareServers, into: &out)
        StatusPage.metric("max_requests", "The number of requests each child process serves before it is respawned (pm.max_requests, 0: no limit).",
                          .gauge, limits.maxRequests, into: &out)
        StatusPage.metric("process_idle_timeout_seconds", "The seconds after which an idle process is killed (pm.process_idle_timeout).",
                          .gauge, limits.processIdleTimeout, into: &out)
        StatusPage.metric("request_terminate_timeout_seconds", "The seconds after which a request is terminated (request_terminate_timeout, 0: none).",
                          .gauge, limits.terminateTimeout, into: &out)
    }

    /// `phpfpm_request_duration_seconds`: cumulative buckets, `_count` equal to the `+Inf`
    /// bucket (both computed from the same copy), `_sum` in seconds.
    /// A job pool's is `phpfpm_job_duration_seconds`: each job from its assignment to its report.
    private static func appendHistogram(_ h: Scoreboard.DurationHistogram, job: Bool, into out: inout [UInt8]) {
        let name = job ? "phpfpm_job_duration_seconds" : "phpfpm_request_duration_seconds"
        let help = job ? "The duration of the jobs the pool's workers finished, from their assignment to their report to gearmand."
            : "The duration of the requests the pool's workers finished, from their first byte to their end."
        out.append(contentsOf: "# HELP \(name) \(help)\n".utf8)
        out.append(contentsOf: "# TYPE \(name) histogram\n".utf8)
        var cumulative = 0
        for (i, count) in h.counts.enumerated() {
            cumulative &+= count
            out.append(contentsOf: "\(name)_bucket{le=\"".utf8)
            out.append(contentsOf: (i < bucketLabels.count ? bucketLabels[i] : "+Inf").utf8)
            out.append(contentsOf: "\"} ".utf8)
            TextRendering.appendDecimal(cumulative, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        out.append(contentsOf: "\(name)_count ".utf8)
        TextRendering.appendDecimal(cumulative, to: &out)
        out.append(contentsOf: "\n\(name)_sum ".utf8)
        TextRendering.appendFixed(Double(h.sumMicros) / 1e6, decimals: 6, to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    private static func appendProcesses(_ processes: [ProcessStatus], strict: Bool, into out: inout [UInt8]) {
        family("process_state", "The state of each worker (1 for its current state).", .gauge, into: &out)
        for p in processes {
            sample("process_state", pid: p.pid, extra: ("state", p.state.rawValue), into: &out)
            out.append(contentsOf: " 1\n".utf8)
        }
        let requestsHelp = "The number of requests each worker served."
        if strict {
            appendStrictCounterHeader("process_requests_total", Array(requestsHelp.utf8), into: &out)
            for p in processes {
                sample("process_requests_total", pid: p.pid, into: &out)
                out.append(UInt8(ascii: " "))
                TextRendering.appendDecimal(p.requests, to: &out)
                out.append(UInt8(ascii: "\n"))
            }
        } else {
            perWorker("process_requests", requestsHelp, .counter, processes, into: &out) {
                TextRendering.appendDecimal($0.requests, to: &$1)
            }
        }
        perWorker("process_request_duration_seconds",
                  "The duration of each worker's last request when idle, else of its current request so far.",
                  .gauge, processes, into: &out) {
            TextRendering.appendFixed(Double($0.requestDuration) / 1e6, decimals: 6, to: &$1)
        }
        perWorker("process_last_request_memory_bytes",
                  "The memory each worker used in its last request (0 while it serves one, as php-fpm reports).",
                  .gauge, processes, into: &out) {
            TextRendering.appendDecimal($0.lastRequestMemory, to: &$1)
        }
        appendRequestIdentities(processes, into: &out)
    }

    /// The id of each busy worker's request, as labels of a constant 1. Busy workers only: each
    /// request id is a new series, so an idle worker's last one is not repeated at every scrape
    /// (the pool records ids only with a slowlog or a status page; without one, no sample).
    private static func appendRequestIdentities(_ processes: [ProcessStatus], into out: inout [UInt8]) {
        let identified = processes.filter { !$0.requestID.isEmpty && $0.state != .idle }
        guard !identified.isEmpty else { return }
        family("process_request_identity", "The id and trace id of each worker's current or last request.", .gauge,
               into: &out)
        for p in identified {
            sample("process_request_identity", pid: p.pid, extra: ("request_id", p.requestID), into: &out)
            out.removeLast()  // the closing brace: one more label
            out.append(contentsOf: ",trace_id=\"".utf8)
            TextRendering.appendOpenMetricsEscaped(p.traceID, to: &out)
            out.append(contentsOf: "\"} 1\n".utf8)
        }
    }

    /// One family with a `pid`-labelled sample per worker, its value written by `value`.
    private static func perWorker(_ name: String, _ help: String, _ type: StatusPage.MetricType,
                                  _ processes: [ProcessStatus], into out: inout [UInt8],
                                  value: (ProcessStatus, inout [UInt8]) -> Void) {
        family(name, help, type, into: &out)
        for p in processes {
            self.sample(name, pid: p.pid, into: &out)
            out.append(UInt8(ascii: " "))
            value(p, &out)
            out.append(UInt8(ascii: "\n"))
        }
    }

    /// A strict counter's family head: `name` already ends in `_total`; no TYPE line (see above).
    static func appendStrictCounterHeader(_ name: String, _ help: [UInt8], into out: inout [UInt8]) {
        out.append(contentsOf: "# HELP phpfpm_\(name) ".utf8)
        out.append(contentsOf: help)
        out.append(UInt8(ascii: "\n"))
    }

    private static func family(_ name: String, _ help: String, _ type: StatusPage.MetricType, into out: inout [UInt8]) {
        out.append(contentsOf: "# HELP phpfpm_\(name) \(help)\n# TYPE phpfpm_\(name) \(type.rawValue)\n".utf8)
    }

    private static func sample(_ name: String, pid: Int32, extra: (String, String)? = nil, into out: inout [UInt8]) {
        out.append(contentsOf: "phpfpm_\(name){pid=\"".utf8)
        TextRendering.appendDecimal(Int(pid), to: &out)
        out.append(UInt8(ascii: "\""))
        if let (label, value) = extra {
            out.append(contentsOf: ",\(label)=\"".utf8)
            TextRendering.appendOpenMetricsEscaped(value, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
    }
}
