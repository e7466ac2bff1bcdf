// Route lookups per second with 200 routes: the router's tree (RouteTrie) against the linear
// scan it replaced (kept below, as it was, for the comparison). `make bench-router`;
// `ROUTER_BENCH_LOOKUPS=N` sets the lookups per round (default 2,000,000).
import ArgumentParser
import FPM

/// The old matcher: every route's pattern tried in turn, first match wins.
struct LinearRouter {
    enum Segment { case literal(String), parameter(String), rest }
    var routes: [(method: HTTPRequest.Method, segments: [Segment], pattern: String)] = []

    mutating func add(_ method: HTTPRequest.Method, _ pattern: String) {
        let segments: [Segment] = pattern.split(separator: "/").map { part in
            part == "*" ? .rest : part.hasPrefix(":") ? .parameter(String(part.dropFirst())) : .literal(String(part))
        }
        routes.append((method, segments, pattern))
    }

    func lookup(_ method: HTTPRequest.Method, _ path: String) -> (pattern: String, parameters: [(String, String)])? {
        for route in routes where route.method == method {
            if let captured = Self.match(route.segments, path) { return (route.pattern, captured) }
        }
        return nil
    }

    static func match(_ segments: [Segment], _ path: String) -> [(String, String)]? {
        var captured: [(String, String)] = []
        var rest = path[...]
        for segment in segments {
            rest = rest.drop { $0 == "/" }
            if case .rest = segment {
                captured.append(("*", String(rest)))
                return captured
            }
            guard !rest.isEmpty else { return nil }
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            let part = rest[..<end]
            switch segment {
            case .literal(let literal): guard part == literal else { return nil }
            case .parameter(let name): captured.append((name, String(part)))
            case .rest: break
            }
            rest = rest[end...]
        }
        return rest.allSatisfy({ $0 == "/" }) ? captured : nil
    }
}

// 200 routes of an API's shapes: 40 resources, each with a list, a create, a show, a nested
// item and a static subtree.
/// The command line: the lookups per round (ROUTER_BENCH_LOOKUPS in `make bench-router`). An
/// ArgumentParser command, so that the generate-manual plugin, which asks every executable of
/// the package for `--experimental-dump-help`, gets an answer.
struct RouterBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router-bench", abstract: "Route lookups per second with 200 routes: the router's tree against a linear scan.")

    @Argument(help: "Lookups per round.") var lookups: Int = 2_000_000

    func run() { benchmark(lookups: lookups) }
}

func benchmark(lookups: Int) {
    let router = Router()
    var linear = LinearRouter()
    var requests: [(HTTPRequest.Method, String, String)] = []  // method, path, expected pattern
    for r in 0..<40 {
        let routes: [(HTTPRequest.Method, String, String)] = [
            (.get, "/api/r\(r)", "/api/r\(r)"),
            (.post, "/api/r\(r)", "/api/r\(r)"),
            (.get, "/api/r\(r)/:id", "/api/r\(r)/\(r * 7)"),
            (.get, "/api/r\(r)/:id/items/:item", "/api/r\(r)/\(r)/items/abc\(r)"),
            (.get, "/static/r\(r)/*", "/static/r\(r)/css/site.css"),
        ]
        for (method, pattern, path) in routes {
            router.on(method, pattern) { _, _ in }
            linear.add(method, pattern)
            requests.append((method, path, pattern))
        }
    }
    precondition(requests.count == 200)
    // Every route is reachable, and both find the same one.
    for (method, path, pattern) in requests {
        precondition(router.lookup(method, path)?.pattern == pattern, "tree: \(method) \(path)")
        precondition(linear.lookup(method, path)?.pattern == pattern, "linear: \(method) \(path)")
    }

    // lookups: the command's argument
    let clock = ContinuousClock()

    /// Lookups per second over `lookups` lookups cycling through every route (the best of 3 rounds).
    func measure(_ name: String, lookups: Int, _ lookup: (HTTPRequest.Method, String) -> Int) -> Double {
        var best = 0.0
        var sink = 0
        for _ in 0..<3 {
            let elapsed = clock.measure {
                for i in 0..<lookups {
                    let (method, path, _) = requests[i % requests.count]
                    sink &+= lookup(method, path)
                }
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = max(best, Double(lookups) / seconds)
        }
        precondition(sink != 0)
        print("router-bench: \(name): \(Int(best)) lookups/s over \(lookups) (\(format3(1e9 / best)) ns per lookup)")
        return best
    }

    func format3(_ value: Double) -> String {
        let scaled = Int((value * 10).rounded())
        return "\(scaled / 10).\(scaled % 10)"
    }

    print("router-bench: 200 routes, \(lookups) lookups per round, every route in turn")
    let tree = measure("tree  ", lookups: lookups) { method, path in router.lookup(method, path).map { $0.parameters.all.count + 1 } ?? 0 }
    // The scan is ~25x slower: a twentieth of the lookups keeps the run short.
    let scan = measure("linear", lookups: max(lookups / 20, requests.count)) { method, path in linear.lookup(method, path).map { $0.parameters.count + 1 } ?? 0 }
    print("router-bench: the tree does \(format3(tree / scan))x the lookups of the linear scan")
}

RouterBench.main()
