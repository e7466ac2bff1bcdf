/// php-fpm's status page, rendered byte for byte in its five formats.
///
/// Pure: it formats a ``PoolStatus`` and its ``ProcessStatus`` list, it reads nothing. The
/// outputs were checked against php-fpm 8.2's own, captured with `cgi-fcgi`.
///
/// Deliberate differences from php-fpm:
/// * **Additions** (``PoolStatus/maxChildren``, when not nil) come after php-fpm's pool fields
///   in every format: a `max children:` line, a `"max children"` key, a `<max-children>`
///   element, an HTML row, and a `phpfpm_max_children` gauge.
/// * **OpenMetrics**: php-fpm's families come byte for byte as php-fpm writes them: the same
///   names, the same types (`phpfpm_max_listen_queue` and `phpfpm_max_active_processes` are
///   `counter`s there, so here too), the same HELP/TYPE order (`phpfpm_listen_queue_length`
///   has TYPE first), no labels: dashboards and alerts built on php-fpm carry over. php-fpm's
///   counters lack the `_total` suffix that OpenMetrics 1.0 requires of a counter's sample, so
///   strict OpenMetrics parsers reject php-fpm's page (and this one); `?openmetrics&strict`
///   writes each of them as a family named `NAME_total`, which strict OpenMetrics parsers,
///   `promtool check metrics` and Prometheus all accept (``OpenMetricsRendering``). After php-fpm's families come swift-fpm's (``OpenMetricsRendering``): the pool's limits, the request-duration histogram and, with `full`, one series per
///   worker (php-fpm's `full` adds nothing to OpenMetrics).
/// * **Escaping**: pool and process-manager names are escaped like the other strings (php-fpm
///   prints them raw; valid names are unaffected). php-fpm blanks an XML/HTML value holding
///   invalid UTF-8 and drops such bytes from JSON; here the model holds Swift strings, so such
///   bytes arrive as U+FFFD and are shown as that (in text output too, where php-fpm writes the
///   raw bytes).
/// * **HEAD**: php-fpm loses the content type for HEAD requests; here ``RenderedPage`` always has
///   it, and the caller just omits the body.
/// * A non-finite ``ProcessStatus/lastRequestCPU`` is written `0.00` in JSON, which has no NaN.
///
/// There is no `now` parameter: every time-dependent value (`start since`, `request duration`)
/// is in the model, filled by the caller from the same clock reading.
package enum StatusPage {
    /// One response header.
    package struct Header: Sendable, Equatable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A rendered page: its content type, every header to send (the cache headers, then
    /// `Content-Type`), and the body.
    package struct RenderedPage: Sendable, Equatable {
        package var contentType: String
        package var headers: [Header]
        package var body: [UInt8]

        package init(contentType: String, body: [UInt8]) {
            self.contentType = contentType
            self.headers = StatusPage.cacheHeaders + [Header(name: "Content-Type", value: contentType)]
            self.body = body
        }

        /// The body as text (it is always UTF-8).
        package var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// The headers php-fpm sends on status and ping pages so nothing caches them.
    package static let cacheHeaders: [Header] = [
        Header(name: "Expires", value: "Thu, 01 Jan 1970 00:00:00 GMT"),
        Header(name: "Cache-Control", value: "no-cache, no-store, must-revalidate, max-age=0"),
    ]

    /// The content type php-fpm puts on the wire for each format (PHP appends the charset to
    /// `text/*` types itself).
    package static func contentType(for format: StatusFormat) -> String {
        switch format {
        case .text: return "text/plain;charset=UTF-8"
        case .html: return "text/html;charset=UTF-8"
        case .xml: return "text/xml;charset=UTF-8"
        case .json: return "application/json"
        case .openmetrics: return "application/openmetrics-text; version=1.0.0; charset=utf-8"
        }
    }

    /// Renders the page a status request's query string asks for.
    package static func render(pool: PoolStatus, processes: [ProcessStatus], query: StatusQuery) -> RenderedPage {
        render(pool: pool, processes: processes, format: query.format, full: query.full, strict: query.strict)
    }

    /// Renders `pool`, and with `full` one entry per process (OpenMetrics ignores `full`).
    package static func render(pool: PoolStatus, processes: [ProcessStatus], format: StatusFormat,
                              full: Bool, strict: Bool = false) -> RenderedPage {
        var body: [UInt8] = []
        body.reserveCapacity(1024 + (full ? processes.count * 512 : 0))
        let shown = full ? processes : []
        switch format {
        case .text: renderText(pool, shown, into: &body)
        case .json: renderJSON(pool, full ? processes : nil, into: &body)
        case .xml: renderXML(pool, full ? processes : nil, into: &body)
        case .html: renderHTML(pool, full ? processes : nil, into: &body)
        case .openmetrics: renderOpenMetrics(pool, full ? processes : nil, strict: strict, into: &body)
        }
        return RenderedPage(contentType: contentType(for: format), body: body)
    }

    // MARK: - Field lists

    /// A field's value, typed so each format can write it its own way.
    enum Value {
        case string(String)
        case int(Int)
        case time(Int)  // epoch: a date in text/HTML, a number in JSON/XML
        case percent(Double)
    }

    /// Pool fields in php-fpm's order: (text/HTML/JSON label, value).
    static func poolFields(_ p: PoolStatus) -> [(String, Value)] {
        var fields: [(String, Value)] = [
            ("pool", .string(p.pool)),
            ("process manager", .string(p.processManager)),
            ("start time", .time(p.startTime)),
            ("start since", .int(p.startSince)),
            ("accepted conn", .int(p.acceptedConn)),
            ("listen queue", .int(p.listenQueue)),
            ("max listen queue", .int(p.maxListenQueue)),
            ("listen queue len", .int(p.listenQueueLen)),
            ("idle processes", .int(p.idleProcesses)),
            ("active processes", .int(p.activeProcesses)),
            ("total processes", .int(p.totalProcesses)),
            ("max active processes", .int(p.maxActiveProcesses)),
            ("max children reached", .int(p.maxChildrenReached)),
            ("slow requests", .int(p.slowRequests)),
        ]
        if let maxChildren = p.maxChildren { fields.append(("max children", .int(maxChildren))) }
        if let replaced = p.memoryReplacements { fields.append(("memory replacements", .int(replaced))) }
        if let rejected = p.rejectedRequests { fields.append(("rejected requests", .int(rejected))) }
        if let jobs = p.jobs { fields += jobs.fields }
        return fields
    }

    /// Process fields in php-fpm's order (`request URI` in text, `request uri` elsewhere: callers
    /// lowercase it), then with `identity` swift-fpm's `request id` and `trace id`.
    static func processFields(_ p: ProcessStatus, identity: Bool = false) -> [(String, Value)] {
        let fields: [(String, Value)] = [
            ("pid", .int(Int(p.pid))),
            ("state", .string(p.state.rawValue)),
            ("start time", .time(p.startTime)),
            ("start since", .int(p.startSince)),
            ("requests", .int(p.requests)),
            ("request duration", .int(p.requestDuration)),
            ("request method", .string(dashIfEmpty(p.requestMethod))),
            ("request URI", .string(p.queryString.isEmpty ? p.requestURI : p.requestURI + "?" + p.queryString)),
            ("content length", .int(p.contentLength)),
            ("user", .string(dashIfEmpty(p.user))),
            ("script", .string(dashIfEmpty(p.script))),
            ("last request cpu", .percent(p.lastRequestCPU)),
            ("last request memory", .int(p.lastRequestMemory)),
        ]
        return identity ? fields + identityFields(p) : fields
    }

    private static func dashIfEmpty(_ s: String) -> String { s.isEmpty ? "-" : s }

    private static func xmlName(_ label: String) -> String {
        String(label.lowercased().map { $0 == " " ? "-" : $0 })
    }

    // MARK: - Text

    private static func renderText(_ pool: PoolStatus, _ processes: [ProcessStatus], into out: inout [UInt8]) {
        for (label, value) in poolFields(pool) { textLine(label, value, into: &out) }
        let identity = showsIdentity(processes)
        for process in processes {
            out.append(contentsOf: "\n************************\n".utf8)
            for (label, value) in processFields(process, identity: identity) { textLine(label, value, into: &out) }
        }
    }

    private static func textLine(_ label: String, _ value: Value, into out: inout [UInt8]) {
        out.append(contentsOf: label.utf8)
        out.append(UInt8(ascii: ":"))
        let width = label.utf8.count + 1
        if width < 22 { out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 22 - width)) }
        switch value {
        case .string(let s): out.append(contentsOf: s.utf8)
        case .int(let n): TextRendering.appendDecimal(n, to: &out)
        case .time(let t): TextRendering.appendTime(epoch: t, format: TextRendering.statusTimeFormat, to: &out)
        case .percent(let d): TextRendering.appendFixed(d, decimals: 2, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
    }

    // MARK: - JSON

    private static func renderJSON(_ pool: PoolStatus, _ processes: [ProcessStatus]?, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        jsonMembers(poolFields(pool), into: &out)
        if let processes {
            out.append(contentsOf: ", \"processes\":[".utf8)
            let identity = showsIdentity(processes)
            for (i, process) in processes.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "{"))
                jsonMembers(processFields(process, identity: identity), into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func jsonMembers(_ fields: [(String, Value)], into out: inout [UInt8]) {
        for (i, (label, value)) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: (label == "request URI" ? "request uri" : label).utf8)
            out.append(contentsOf: "\":".utf8)
            switch value {
            case .string(let s):
                out.append(UInt8(ascii: "\""))
                TextRendering.appendJSONEscaped(s, to: &out)
                out.append(UInt8(ascii: "\""))
            case .int(let n), .time(let n): TextRendering.appendDecimal(n, to: &out)
            case .percent(let d): TextRendering.appendFixed(d.isFinite ? d : 0, decimals: 2, to: &out)
            }
        }
    }

    // MARK: - XML

    private static func renderXML(_ pool: PoolStatus, _ processes: [ProcessStatus]?, into out: inout [UInt8]) {
        out.append(contentsOf: "<?xml version=\"1.0\" ?>\n<status>\n".utf8)
        for (label, value) in poolFields(pool) {
            xmlElement(label, value, into: &out)
            out.append(UInt8(ascii: "\n"))
        }
        if let processes {
            out.append(contentsOf: "<processes>\n".utf8)
            let identity = showsIdentity(processes)
            for process in processes {
                out.append(contentsOf: "<process>".utf8)
                for (label, value) in processFields(process, identity: identity) { xmlElement(label, value, into: &out) }
                out.append(contentsOf: "</process>\n".utf8)
            }
            out.append(contentsOf: "</processes>\n".utf8)
        }
        out.append(contentsOf: "</status>".utf8)
    }

    private static func xmlElement(_ label: String, _ value: Value, into out: inout [UInt8]) {
        let name = xmlName(label)
        out.append(UInt8(ascii: "<"))
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
        switch value {
        case .string(let s): TextRendering.appendXMLEscaped(s, to: &out)
        case .int(let n), .time(let n): TextRendering.appendDecimal(n, to: &out)
        case .percent(let d): TextRendering.appendFixed(d, decimals: 2, to: &out)
        }
        out.append(contentsOf: "</".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: ">"))
    }

    // MARK: - HTML

    private static func renderHTML(_ pool: PoolStatus, _ processes: [ProcessStatus]?, into out: inout [UInt8]) {
        out.append(contentsOf: """
            <!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
            <html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
            <head><title>PHP-FPM Status Page</title></head>
            <body>
            <table>

            """.utf8)
        for (label, value) in poolFields(pool) {
            out.append(contentsOf: "<tr><th>".utf8)
            out.append(contentsOf: label.utf8)
            out.append(contentsOf: "</th>".utf8)
            htmlCell(value, into: &out)
            out.append(contentsOf: "</tr>\n".utf8)
        }
        out.append(contentsOf: "</table>\n".utf8)
        guard let processes else {
            out.append(contentsOf: "</body></html>".utf8)
            return
        }
        out.append(contentsOf: "<table border=\"1\">\n<tr>".utf8)
        let placeholder = ProcessStatus(pid: 0, state: .idle, startTime: 0, startSince: 0)
        let identity = showsIdentity(processes)
        for (label, _) in processFields(placeholder, identity: identity) {
            out.append(contentsOf: "<th>".utf8)
            out.append(contentsOf: label.lowercased().utf8)
            out.append(contentsOf: "</th>".utf8)
        }
        out.append(contentsOf: "</tr>\n".utf8)
        for process in processes {
            out.append(contentsOf: "<tr>".utf8)
            for (_, value) in processFields(process, identity: identity) { htmlCell(value, into: &out) }
            out.append(contentsOf: "</tr>\n".utf8)
        }
        out.append(contentsOf: "</table></body></html>".utf8)
    }

    private static func htmlCell(_ value: Value, into out: inout [UInt8]) {
        out.append(contentsOf: "<td>".utf8)
        switch value {
        case .string(let s): TextRendering.appendXMLEscaped(s, to: &out)
        case .int(let n): TextRendering.appendDecimal(n, to: &out)
        case .time(let t): TextRendering.appendTime(epoch: t, format: TextRendering.statusTimeFormat, to: &out)
        case .percent(let d): TextRendering.appendFixed(d, decimals: 2, to: &out)
        }
        out.append(contentsOf: "</td>".utf8)
    }

    // MARK: - OpenMetrics

    enum MetricType: String {
        case gauge, counter, histogram
    }

    private static func renderOpenMetrics(_ pool: PoolStatus, _ processes: [ProcessStatus]?, strict: Bool,
                                          into out: inout [UInt8]) {
        var upHelp: [UInt8] = Array("Could pool ".utf8)
        TextRendering.appendOpenMetricsEscaped(pool.pool, to: &upHelp)
        upHelp.append(contentsOf: " using a ".utf8)
        TextRendering.appendOpenMetricsEscaped(pool.processManager, to: &upHelp)
        upHelp.append(contentsOf: " PM on PHP-FPM be reached?".utf8)
        let total = strict ? "_total" : ""
        metric("up", upHelp, .gauge, 1, into: &out)
        metric("start_since", "The number of seconds since FPM has started.", .counter, pool.startSince,
               sample: total, into: &out)
        metric("accepted_connections", "The number of requests accepted by the pool.", .counter,
               pool.acceptedConn, sample: total, into: &out)
        metric("listen_queue", "The number of requests in the queue of pending connections.", .gauge,
               pool.listenQueue, into: &out)
        metric("max_listen_queue",
               "The maximum number of requests in the queue of pending connections since FPM has started.",
               .counter, pool.maxListenQueue, sample: total, into: &out)
        // php-fpm writes this family's TYPE before its HELP; kept, both orders are valid.
        out.append(contentsOf: "# TYPE phpfpm_listen_queue_length gauge\n".utf8)
        out.append(contentsOf: "# HELP phpfpm_listen_queue_length The size of the socket queue of pending connections.\nphpfpm_listen_queue_length ".utf8)
        TextRendering.appendDecimal(pool.listenQueueLen, to: &out)
        out.append(UInt8(ascii: "\n"))
        metric("idle_processes", "The number of idle processes.", .gauge, pool.idleProcesses, into: &out)
        metric("active_processes", "The number of active processes.", .gauge, pool.activeProcesses, into: &out)
        metric("total_processes", "The number of idle + active processes.", .gauge, pool.totalProcesses, into: &out)
        metric("max_active_processes", "The maximum number of active processes since FPM has started.", .counter,
               pool.maxActiveProcesses, sample: total, into: &out)
        metric("max_children_reached",
               "The number of times, the process limit has been reached, when pm tries to start more children (works only for pm 'dynamic' and 'ondemand').",
               .counter, pool.maxChildrenReached, sample: total, into: &out)
        metric("slow_requests", "The number of requests that exceeded your 'request_slowlog_timeout' value.",
               .counter, pool.slowRequests, sample: total, into: &out)
        if let maxChildren = pool.maxChildren {
            metric("max_children", "The maximum number of child processes (pm.max_children).", .gauge,
                   maxChildren, into: &out)
        }
        if let replaced = pool.memoryReplacements {
            metric("memory_replacements", "The number of workers replaced for passing pm.max_memory.", .counter,
                   replaced, sample: total, into: &out)
        }
        if let rejected = pool.rejectedRequests {
            metric("rejected_requests", "The number of requests the master answered 503 itself (pm.max_queue_wait, or no worker).",
                   .counter, rejected, sample: total, into: &out)
        }
        OpenMetricsRendering.appendAdditions(pool, processes, strict: strict, into: &out)
        out.append(contentsOf: "# EOF\n".utf8)
    }

    static func metric(_ name: String, _ help: String, _ type: MetricType, _ value: Int, sample suffix: String = "",
                       into out: inout [UInt8]) {
        metric(name, Array(help.utf8), type, value, sample: suffix, into: &out)
    }

    /// One unlabelled family of one sample; a non-empty `suffix` (`_total`, under `strict`) makes
    /// the family one both OpenMetrics and the Prometheus text format read alike
    /// (``OpenMetricsRendering/appendStrictCounterHeader(_:_:into:)``).
    static func metric(_ name: String, _ help: [UInt8], _ type: MetricType, _ value: Int, sample suffix: String = "",
                       into out: inout [UInt8]) {
        if !suffix.isEmpty {
            OpenMetricsRendering.appendStrictCounterHeader(name + suffix, help, into: &out)
            out.append(contentsOf: "phpfpm_\(name)\(suffix) ".utf8)
            TextRendering.appendDecimal(value, to: &out)
            out.append(UInt8(ascii: "\n"))
            return
        }
        out.append(contentsOf: "# HELP phpfpm_".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: help)
        out.append(contentsOf: "\n# TYPE phpfpm_".utf8)
        out.append(contentsOf: name.utf8)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: type.rawValue.utf8)
        out.append(contentsOf: "\nphpfpm_".utf8)
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: suffix.utf8)
        out.append(UInt8(ascii: " "))
        TextRendering.appendDecimal(value, to: &out)
        out.append(UInt8(ascii: "\n"))
    }
}
