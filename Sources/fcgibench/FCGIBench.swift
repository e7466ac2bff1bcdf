import ArgumentParser
import Atomics
import FPMSystem
import FastCGI
import FastCGIClient
import Foundation

/// A FastCGI load generator: measures an upstream (swift-fpm, php-fpm, a libfcgi program)
/// without a web server in the way. N connections, each on its own thread sending one request
/// at a time (synchronous, simple: it is the client, not the server), persistent (FCGI_KEEP_CONN)
/// or one connection per request, for a duration or a count of requests.
@main
struct FCGIBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fcgibench",
        abstract: "Load-test a FastCGI application: req/s and a latency histogram (p50/p90/p99/max).",
        discussion: """
        Examples:
          fcgibench 127.0.0.1:9000 -c 16 -d 10 --uri /hello
          fcgibench /run/fpm.sock -c 4 -n 10000 --new-connection --uri '/pid?x=1'
          fcgibench :9000 --method POST --body 'a=1' -p HTTP_X_TRACE=1
        """)

    @Argument(help: "The application: host:port, :port, [v6]:port, /path/to.sock or unix:/path.")
    var address: String

    @Option(name: .shortAndLong, help: "Connections (one thread each).")
    var connections = 4

    @Option(name: .shortAndLong, help: "Seconds to run (unless --requests is given).")
    var duration: Double = 10

    @Option(name: [.customShort("n"), .long], help: "Total requests instead of a duration.")
    var requests: Int?

    @Flag(help: "A new connection for every request (default: kept connections, FCGI_KEEP_CONN).")
    var newConnection = false

    @Option(help: "The request URI: sets SCRIPT_NAME, SCRIPT_FILENAME (under --document-root), QUERY_STRING, REQUEST_URI.")
    var uri = "/"

    @Option(help: "REQUEST_METHOD.")
    var method = "GET"

    @Option(help: "DOCUMENT_ROOT, and the prefix of SCRIPT_FILENAME.")
    var documentRoot = "/srv"

    @Option(name: [.customShort("p"), .customLong("param")], help: "A FastCGI param NAME=VALUE (repeatable; overrides the defaults).")
    var params: [String] = []

    @Option(help: "The request body (sets CONTENT_LENGTH).")
    var body: String?

    @Option(help: "A file whose bytes are the request body.")
    var bodyFile: String?

    @Option(help: "Seconds before a connect or response counts as failed.")
    var timeout: Double = 10

    @Flag(help: "Print the result as one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard FastCGIAddress(address) != nil else { throw ValidationError("'\(address)' is not a FastCGI address (host:port, :port or a socket path)") }
        guard connections >= 1 && connections <= 4096 else { throw ValidationError("--connections must be 1...4096") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard body == nil || bodyFile == nil else { throw ValidationError("give --body or --body-file, not both") }
        for p in params where !p.contains("=") { throw ValidationError("--param '\(p)' is not NAME=VALUE") }
        guard uri.hasPrefix("/") else { throw ValidationError("--uri must start with /") }
    }

    func run() throws {
        let target = FastCGIAddress(address)!
        var payload: [UInt8] = []
        if let body { payload = Array(body.utf8) }
        if let bodyFile {
            guard let data = FileManager.default.contents(atPath: bodyFile) else { throw ValidationError("cannot read --body-file \(bodyFile)") }
            payload = Array(data)
        }
        let request = Records.request(params: requestParams(bodyLength: payload.count), body: payload, keepConnection: !newConnection)
        let plan = Plan(target: target, request: request, total: requests,
                        deadline: requests == nil ? SystemClock.monotonicNanos() + Int(duration * 1e9) : Int.max,
                        persistent: !newConnection, timeout: timeout)
        let workers = (0..<connections).map { _ in Runner(plan: plan) }
        let started = SystemClock.monotonicNanos()
        let done = DispatchSemaphore(value: 0)
        for w in workers { Thread.detachNewThread { w.run(); done.signal() } }
        for _ in workers { done.wait() }
        let elapsed = SystemClock.monotonicNanos() - started
        report(workers: workers, elapsedNanos: elapsed)
    }

    /// The CGI params nginx's fastcgi_params would send for --uri and --method, then --param.
    func requestParams(bodyLength: Int) -> [(String, String)] {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        var list: [(String, String)] = [
            ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "fcgibench"),
            ("REQUEST_METHOD", method), ("SCRIPT_NAME", path), ("SCRIPT_FILENAME", documentRoot + path),
            ("DOCUMENT_ROOT", documentRoot), ("DOCUMENT_URI", path), ("REQUEST_URI", uri),
            ("QUERY_STRING", parts.count > 1 ? String(parts[1]) : ""), ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "40000"), ("SERVER_ADDR", "127.0.0.1"),
            ("SERVER_PORT", "80"), ("SERVER_NAME", "localhost"), ("HTTP_HOST", "localhost"),
            ("CONTENT_TYPE", bodyLength > 0 ? "application/x-www-form-urlencoded" : ""),
            ("CONTENT_LENGTH", bodyLength > 0 ? String(bodyLength) : ""),
        ]
        for p in params {
            let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0]), value = String(kv[1])
            if let i = list.firstIndex(where: { $0.0 == name }) { list[i].1 = value } else { list.append((name, value)) }
        }
        return list
    }

    func report(workers: [Runner], elapsedNanos: Int) {
        var latencies = LatencyHistogram()
        var ok = 0, failed = 0, non2xx = 0, connects = 0
        var firstError: String?
        for w in workers {
            latencies.merge(w.latencies)
            ok += w.ok
            failed += w.failed
            non2xx += w.non2xx
            connects += w.connects
            if firstError == nil { firstError = w.firstError }
        }
        let seconds = Double(elapsedNanos) / 1e9
        let rate = Double(ok + non2xx) / seconds
        let s = latencies.summary()
        if json {
            var fields = [
                "\"requests\":\(ok + non2xx)", "\"ok\":\(ok)", "\"non2xx\":\(non2xx)", "\"errors\":\(failed)",
                "\"connections_opened\":\(connects)", "\"seconds\":\(seconds)", "\"requests_per_second\":\(rate)",
                "\"p50_us\":\(s.p50 / 1000)", "\"p90_us\":\(s.p90 / 1000)", "\"p99_us\":\(s.p99 / 1000)",
                "\"max_us\":\(s.max / 1000)", "\"mean_us\":\(s.mean / 1000)",
            ]
            if let firstError { fields.append("\"first_error\":\"\(firstError.replacingOccurrences(of: "\"", with: "'"))\"") }
            print("{" + fields.joined(separator: ",") + "}")
            return
        }
        print("fcgibench \(address): \(connections) connection(s), \(newConnection ? "one per request" : "kept (FCGI_KEEP_CONN)")")
        print("  \(ok + non2xx) requests in \(LatencyHistogram.fixed(seconds))s, \(LatencyHistogram.fixed(rate)) req/s; \(non2xx) not 2xx, \(failed) errors, \(connects) connections opened")
        if let firstError { print("  first error: \(firstError)") }
        print("  latency p50 \(LatencyHistogram.format(s.p50))  p90 \(LatencyHistogram.format(s.p90))  p99 \(LatencyHistogram.format(s.p99))  max \(LatencyHistogram.format(s.max))  mean \(LatencyHistogram.format(s.mean))")
        let rows = latencies.buckets()
        let widest = rows.map(\.count).max() ?? 1
        for row in rows {
            let bar = String(repeating: "#", count: max(row.count > 0 ? 1 : 0, row.count * 40 / widest))
            let label = "<= " + LatencyHistogram.format(row.upTo)
            print("  " + label.padding(toLength: 10, withPad: " ", startingAt: 0) + " " + String(row.count).leftPadded(9) + " " + bar)
        }
    }
}

/// What every connection's thread shares: the request bytes, and the count or the deadline.
final class Plan: Sendable {
    let target: FastCGIAddress
    let request: [UInt8]
    let persistent: Bool
    let timeout: Double
    let deadline: Int
    let total: Int?
    private let issued = ManagedAtomic<Int>(0)

    init(target: FastCGIAddress, request: [UInt8], total: Int?, deadline: Int, persistent: Bool, timeout: Double) {
        self.target = target
        self.request = request
        self.total = total
        self.deadline = deadline
        self.persistent = persistent
        self.timeout = timeout
    }

    /// Whether one more request may be sent: under the count, or before the deadline.
    func takeOne() -> Bool {
        if let total { return issued.loadThenWrappingIncrement(ordering: .relaxed) < total }
        return SystemClock.monotonicNanos() < deadline
    }
}

/// One connection's loop and its results, read by the main thread only after it ended.
final class Runner: @unchecked Sendable {
    let plan: Plan
    var latencies = LatencyHistogram()
    var ok = 0, failed = 0, non2xx = 0, connects = 0
    var firstError: String?

    init(plan: Plan) { self.plan = plan }

    func run() {
        var client: FastCGIClient?
        while plan.takeOne() {
            let t0 = SystemClock.monotonicNanos()
            do {
                if client == nil {
                    client = try FastCGIClient(connectingTo: plan.target, timeout: plan.timeout)
                    connects += 1
                }
                try client!.sendRaw(plan.request)
                let response = try client!.readResponse()
                latencies.add(SystemClock.monotonicNanos() - t0)
                if (200..<300).contains(response.status) { ok += 1 } else { non2xx += 1 }
                if !plan.persistent {
                    client!.close()
                    client = nil
                }
            } catch {
                failed += 1
                if firstError == nil { firstError = "\(error)" }
                client?.close()
                client = nil
            }
        }
        client?.close()
    }
}

extension Records {
    /// One whole request's bytes: BEGIN_REQUEST, PARAMS, STDIN (id 1), built once per run.
    static func request(params: [(String, String)], body: [UInt8], keepConnection: Bool) -> [UInt8] {
        var out = Records.beginRequest(requestID: 1, role: .responder, keepConnection: keepConnection)
        Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(params), to: &out)
        Records.appendStream(type: .stdin, requestID: 1, content: body, to: &out)
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
