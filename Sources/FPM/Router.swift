import HTTPTypes

/// Routes requests by method and path pattern to closures; itself a ``Handler``, so
/// `FPMMain.run(handlers: ["app": router])` and a pool's `handler = app` serve it.
///
/// ```swift
/// let router = Router()
/// router.get("/hello/:name") { request, response in
///     try response.send("Hello, \(request.parameters["name"] ?? "")!\n")
/// }
/// router.post("/todos") { request, response in
///     let todo = try request.decode(Todo.self)
///     try response.json(todo, status: .created)
/// }
/// ```
///
/// A pattern is a path whose segments are literal, `:name` (one segment, captured into
/// ``Request/parameters``) or a final `*` (the rest of the path, captured as `*`). Routes are
/// tried in the order they were added. A path no route matches is answered 404; a path some
/// route matches but not for this method is answered 405 with `Allow` naming the methods that
/// do. HEAD is served by a GET route (the server drops the body) unless a HEAD route exists.
/// Empty segments are ignored: `/a/`, `//a` and `/a` are the same path.
///
/// Routes are added before `FPMMain.run`, in the master, and then only read: each worker has
/// its own copy after fork.
public final class Router: Handler, PoolPreparing {
    /// A route's closure: the request (with its captured ``Request/parameters``) and the
    /// response to write.
    public typealias Responder = (Request, Response) throws -> Void

    struct Route {
        var method: HTTPRequest.Method
        var pattern: RoutePattern
        var responder: Responder
    }

    var routes: [Route] = []
    var setUps: [(WorkerInfo) throws -> Void] = []
    var tearDowns: [() -> Void] = []
    var preparations: [(PoolInfo) throws -> Void] = []

    /// An empty router: every request is a 404 until routes are added.
    public init() {}

    /// Adds a route for `method` and `pattern`. A malformed pattern (a `*` that is not last,
    /// a `:` with no name) stops the program here, at start, rather than never matching.
    public func on(_ method: HTTPRequest.Method, _ pattern: String, _ responder: @escaping Responder) {
        routes.append(Route(method: method, pattern: RoutePattern(pattern), responder: responder))
    }

    /// Adds a GET route.
    public func get(_ pattern: String, _ responder: @escaping Responder) { on(.get, pattern, responder) }
    /// Adds a POST route.
    public func post(_ pattern: String, _ responder: @escaping Responder) { on(.post, pattern, responder) }
    /// Adds a PUT route.
    public func put(_ pattern: String, _ responder: @escaping Responder) { on(.put, pattern, responder) }
    /// Adds a PATCH route.
    public func patch(_ pattern: String, _ responder: @escaping Responder) { on(.patch, pattern, responder) }
    /// Adds a DELETE route.
    public func delete(_ pattern: String, _ responder: @escaping Responder) { on(.delete, pattern, responder) }

    /// Adds work for `setUp`, once per worker after fork (open a database connection here).
    public func onSetUp(_ body: @escaping (WorkerInfo) throws -> Void) { setUps.append(body) }
    /// Adds work for `tearDown`, when a worker exits gracefully.
    public func onTearDown(_ body: @escaping () -> Void) { tearDowns.append(body) }
    /// Adds work for the pool's once-per-generation preparation (see ``PoolPreparing``): a
    /// schema migration, before any worker's `setUp`.
    public func onPrepare(_ body: @escaping (PoolInfo) throws -> Void) { preparations.append(body) }

    // MARK: Handler

    /// Runs the `onSetUp` closures, in order.
    public func setUp(_ worker: WorkerInfo) throws {
        for body in setUps { try body(worker) }
    }

    /// Runs the `onTearDown` closures, in order.
    public func tearDown() {
        for body in tearDowns { body() }
    }

    /// Whether an `onPrepare` closure was added (no preparation process is started otherwise).
    public var preparesPool: Bool { !preparations.isEmpty }

    /// Runs the `onPrepare` closures, in order; the first error stops them.
    public func prepare(_ pool: PoolInfo) throws {
        for body in preparations { try body(pool) }
    }

    /// Finds the route for the request's method and path and runs it; throws the 404 or 405
    /// ``HTTPError`` when there is none.
    public func handle(_ request: Request, _ response: Response) throws {
        let method = request.method
        let path = request.path
        var allowed: [HTTPRequest.Method] = []
        var getMatch: (Route, RouteParameters)? = nil
        for route in routes {
            guard let captured = route.pattern.match(path) else { continue }
            if route.method == method {
                var matched = request
                matched.parameters = captured
                return try route.responder(matched, response)
            }
            if method == .head && route.method == .get && getMatch == nil { getMatch = (route, captured) }
            if !allowed.contains(route.method) { allowed.append(route.method) }
        }
        if let (route, captured) = getMatch {
            var matched = request
            matched.parameters = captured
            return try route.responder(matched, response)
        }
        if allowed.isEmpty { throw HTTPError(.notFound, "no route for \(path)") }
        if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
        var headers = HTTPFields()
        headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        throw HTTPError(.methodNotAllowed, "\(method.rawValue) is not allowed for \(path)", headers: headers)
    }
}

/// A route's path pattern, split into segments once, when the route is added.
struct RoutePattern {
    enum Segment: Equatable {
        case literal(String)
        case parameter(String)
        case rest
    }

    let segments: [Segment]

    init(_ pattern: String) {
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true)
        var segments: [Segment] = []
        for (index, part) in parts.enumerated() {
            if part == "*" {
                precondition(index == parts.count - 1, "route pattern '\(pattern)': '*' must be the last segment")
                segments.append(.rest)
            } else if part.hasPrefix(":") {
                precondition(part.count > 1, "route pattern '\(pattern)': ':' needs a name")
                segments.append(.parameter(String(part.dropFirst())))
            } else {
                segments.append(.literal(String(part)))
            }
        }
        self.segments = segments
    }

    /// The captured parameters when `path` matches; nil otherwise. Walks the path's segments
    /// without splitting it into an array.
    func match(_ path: String) -> RouteParameters? {
        var captured = RouteParameters()
        var rest = path[...]
        for segment in segments {
            rest = rest.drop { $0 == "/" }
            if case .rest = segment {
                captured.values.append(("*", String(rest)))
                return captured
            }
            guard !rest.isEmpty else { return nil }
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            let part = rest[..<end]
            switch segment {
            case .literal(let literal):
                guard part == literal else { return nil }
            case .parameter(let name):
                captured.values.append((name, String(part)))
            case .rest:
                break
            }
            rest = rest[end...]
        }
        return rest.allSatisfy({ $0 == "/" }) ? captured : nil
    }
}

/// The values a route's `:name` segments captured: `request.parameters["id"]`.
public struct RouteParameters: Sendable {
    var values: [(String, String)] = []

    init() {}

    /// The value captured for `:name` (or `*` for a final wildcard); nil when the route has no
    /// such segment.
    public subscript(_ name: String) -> String? {
        values.first { $0.0 == name }?.1
    }

    /// The value captured for `:name` as text: `try request.parameters.require("name")`. A
    /// route without such a segment is a programming error (answered 500). This overload is
    /// what a call without `as:` picks, so the common case needs no type annotation.
    public func require(_ name: String) throws -> String {
        guard let raw = self[name] else { throw RouteParameterMissing(name: name) }
        return raw
    }

    /// The value captured for `:name` converted to `T` (`Int`, `UUID`…); an ``HTTPError`` 400
    /// when it does not convert, 500 when the route has no such segment (a programming error).
    public func require<T: LosslessStringConvertible>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let raw = self[name] else { throw RouteParameterMissing(name: name) }
        guard let value = T(raw) else { throw HTTPError(.badRequest, "'\(raw)' is not a valid \(name)") }
        return value
    }

    /// Every captured name and value, in the pattern's order.
    public var all: [(name: String, value: String)] { values }
}

/// A route asked for a parameter its pattern does not capture: a programming error, answered
/// 500 and logged.
struct RouteParameterMissing: Error, CustomStringConvertible {
    var name: String
    var description: String { "the route has no parameter '\(name)'" }
}
