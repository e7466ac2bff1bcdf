import Foundation
import Testing

/// The multi-host suite's load: `clients` HTTP clients through one front end, each in turn
/// POSTing a write to a PHP page (`/write.php`), POSTing a write through the Swift pool
/// (`/relay`, which records it through its host's PHP pool), GETting a PHP read (`/read.php`)
/// and GETting the Swift pool (`/pid`). Every write carries a token of its own (`PREFIX-c-n`):
/// the table must then hold each answered write once and nothing twice. Bounded: `finish()`
/// stops it, and it stops by itself after `limit` requests per client.
final class MultiHostLoad: @unchecked Sendable {
    struct Outcome {
        var requests = 0, failed = 0, failedGets = 0, failedPosts = 0
        var writesAnswered: [String] = []
        var writesFailed: [String] = []
        var failures: [String] = []
        var slowest: Double = 0
        /// The slowest answered request of each kind: 0 PHP write, 1 Swift relay (through its
        /// host's PHP pool), 2 PHP read, 3 Swift read (the Swift pool alone).
        var slowestByKind: [Double] = [0, 0, 0, 0]
    }

    let prefix: String
    private let lock = NSLock()
    private var outcome = Outcome()
    private var stopping = false
    private var tasks: [BackgroundTask] = []

    /// `only`: restrict to the PHP operations (the php-fpm comparison has no Swift pool);
    /// `query`: added to every URL (a scenario's service time: `ms=50`).
    init(port: Int, clients: Int, prefix: String, onlyPHP: Bool = false, query: String = "", limit: Int = 100_000,
         timeout: Int = 20) {
        self.prefix = prefix
        for client in 0..<clients {
            tasks.append(BackgroundTask { [self] in
                var n = 0
                while !lock.withLock({ stopping }) && n < limit {
                    n += 1
                    let kinds = onlyPHP ? [0, 2] : [0, 1, 2, 3]
                    let kind = kinds[(n + client) % kinds.count]
                    let token = "\(prefix)-\(client)-\(n)"
                    let extra = query.isEmpty ? "" : "&" + query
                    let (method, path): (String, String) = switch kind {
                    case 0: ("POST", "/write.php?token=\(token)&source=php\(extra)")
                    case 1: ("POST", "/relay?token=\(token)&source=swift\(extra)")
                    case 2: ("GET", "/read.php?n=\(n)\(extra)")
                    default: ("GET", "/pid?n=\(n)\(extra)")
                    }
                    let body = method == "POST" ? [UInt8](repeating: UInt8(97 + n % 26), count: 512 + (n * 131) % 3000) : []
                    let started = Date()
                    var failure: String?
                    do {
                        let r = try HTTPClient.request(port: port, method: method, path: path, body: body,
                                                       headers: [("Content-Type", "application/octet-stream")], timeout: timeout)
                        let expected = kind == 0 || kind == 1 ? "wrote \(token) \(body.count)" : kind == 2 ? "rows " : "pid "
                        if r.status != 200 || !r.text.hasPrefix(expected) { failure = "\(method) \(path): \(r.status) \(r.text.prefix(100))" }
                    } catch {
                        failure = "\(method) \(path): \(error)"
                    }
                    let elapsed = Date().timeIntervalSince(started)
                    if let f = failure { failure = "\(Int(elapsed * 1000)) ms " + f }
                    lock.withLock {
                        outcome.requests += 1
                        if let failure {
                            outcome.failed += 1
                            if method == "GET" { outcome.failedGets += 1 } else { outcome.failedPosts += 1 }
                            if outcome.failures.count < 20 { outcome.failures.append(failure) }
                            if method == "POST" { outcome.writesFailed.append(token) }
                        } else {
                            outcome.slowest = max(outcome.slowest, elapsed)
                            outcome.slowestByKind[kind] = max(outcome.slowestByKind[kind], elapsed)
                            if method == "POST" { outcome.writesAnswered.append(token) }
                        }
                    }
                }
            })
        }
    }

    var requests: Int { lock.withLock { outcome.requests } }

    /// Waits until `n` more requests than now were made (answered or failed).
    @discardableResult
    func waitForProgress(_ n: Int, timeout: Double = 20) -> Bool {
        let target = requests + n
        return TestSupport.waitUntil(timeout: timeout, interval: 0.01) { requests >= target }
    }

    /// Stops the clients (each finishes its request) and returns what happened.
    func finish() -> Outcome {
        lock.withLock { stopping = true }
        for t in tasks { t.wait(timeout: 60) }
        return lock.withLock { outcome }
    }

    /// What is wrong in the table for this load's writes: a token written twice, an answered
    /// write missing; and how many failed writes landed anyway (at most once each).
    static func check(_ outcome: Outcome, prefix: String, database: DatabaseHost) throws -> (problems: [String], failedButLanded: Int) {
        let counts = try database.tokenCounts(prefix: prefix + "-")
        var problems: [String] = []
        for (token, n) in counts where n > 1 { problems.append("\(token) written \(n) times") }
        let missing = outcome.writesAnswered.filter { counts[$0] == nil }
        if !missing.isEmpty { problems.append("\(missing.count) answered writes missing, e.g. \(missing.prefix(3))") }
        let answered = Set(outcome.writesAnswered), failed = Set(outcome.writesFailed)
        let unknown = counts.keys.filter { !answered.contains($0) && !failed.contains($0) }
        if !unknown.isEmpty { problems.append("\(unknown.count) rows no request made, e.g. \(unknown.prefix(3))") }
        return (problems, outcome.writesFailed.filter { counts[$0] != nil }.count)
    }
}
