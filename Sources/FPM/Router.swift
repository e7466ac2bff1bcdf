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
/// ``Request/parameters``) or a final `*` (the rest of the path, captured as `*`). When several
/// routes match, the one added first wins. A path no route matches is answered 404; a path some
/// route matches but not for this method is answered 405 with `Allow` naming the methods that
/// do. HEAD is served by a GET route (the server drops the body) unless a HEAD route exists.
/// Empty segments are ignored: `/a/`, `//a` and `/a` are the same path. Routes are found through
/// a tree of path segments, not by trying each in turn.
///
/// ``group(_:_:)`` adds routes under a path prefix with their own middleware; `use(_:)` adds
/// ``Middleware`` around every request (see <doc:MiddlewareAndGroups>).
///
/// Routes are added before `FPMMain.run`, in the master, and then only read: each worker has
/// its own copy after fork.
public final class Router: Handler, PoolPreparing {
    /// A route's closure: the request (with its captured ``Request/parameters``) and the
    /// response to write.
    public typealias Responder = (Request, Response) throws -> Void

    struct Route {
        var method: HTTPRequest.Method
        /// The pattern as given, group prefix included: ``Request/route``.
        var pattern: String
        var responder: Responder
        /// The middleware of the group the route was added to.
        var scope: MiddlewareScope
    }

    var routes: [Route] = []
    var trie = RouteTrie()
    /// The router's own middleware, around every request.
    let scope = MiddlewareScope(parent: nil)
    /// Each route's responder inside its middleware, and the 404/405 answer inside the
    /// router's: composed at the first request (and again after a route or middleware is added).
    var chains: [Responder]? = nil
    var unmatched: Responder? = nil
    var setUps: [(WorkerInfo) throws -> Void] = []
    var tearDowns: [() -> Void] = []
    var preparations: [(PoolInfo) throws -> Void] = []
    var warmUps: [(PoolInfo) throws -> Void] = []

    /// An empty router: every request is a 404 until routes are added.
    public init() {}

    /// Adds a route for `method` and `pattern`. A malformed pattern (a `*` that is not last,
    /// a `:` with no name) stops the program here, at start, rather than never matching.
    public func on(_ method: HTTPRequest.Method, _ pattern: String, _ responder: @escaping Responder) {
        add(method, pattern, responder, scope: scope)
    }

    /// Adds a route for a group (or the router itself): `scope` is the group's middleware.
    func add(_ method: HTTPRequest.Method, _ pattern: String, _ responder: @escaping Responder, scope: MiddlewareScope) {
        let parsed = RoutePattern(pattern)
        trie.insert(parsed, method: method, route: routes.count)
        routes.append(Route(method: method, pattern: parsed.text, responder: responder, scope: scope))
        chains = nil
    }

    /// Adds `middleware` around every request this router answers, matched or not (see
    /// ``Middleware``); the first added runs first.
    public func use(_ middleware: some Middleware) {
        scope.middleware.append(middleware)
        chains = nil
    }

    /// Adds a closure middleware: `router.use { request, response, next in … try next(request, response) }`.
    public func use(_ body: @escaping (Request, Response, Responder) throws -> Void) {
        use(ClosureMiddleware(body))
    }

    /// The same as `use(_:)` with a middleware, named as in Hummingbird.
    public func add(middleware: some Middleware) { use(middleware) }

    /// A group of routes under `prefix` with middleware of its own, built in `build` or on the
    /// returned group: `router.group("/api") { api in api.use(Auth()); api.get("/todos") { … } }`.
    @discardableResult
    public func group(_ prefix: String, _ build: (RouteGroup) -> Void = { _ in }) -> RouteGroup {
        let group = RouteGroup(router: self, prefix: RoutePattern(prefix).text,
                               scope: MiddlewareScope(parent: nil))
        build(group)
        return group
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
    /// Adds work for ``Handler/warmUp(_:)``: once per pool generation in the pool's warm
    /// template (`pm.warm_template = yes`), shared copy-on-write by the workers it forks.
    public func onWarmUp(_ body: @escaping (PoolInfo) throws -> Void) { warmUps.append(body) }

    // MARK: Handler

    /// Runs the `onSetUp` closures, in order.
    public func setUp(_ worker: WorkerInfo) throws {
        for body in setUps { try body(worker) }
    }

    /// Runs the `onWarmUp` closures, in order; the first error stops them.
    public func warmUp(_ pool: PoolInfo) throws {
        for body in warmUps { try body(pool) }
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

    /// Finds the route for the request's method and path and runs it, inside its middleware;
    /// throws the 404 or 405 ``HTTPError`` when there is none (inside the router's middleware).
    public func handle(_ request: Request, _ response: Response) throws {
        let chains = self.chains ?? compose()
        guard let match = trie.find(request.path, method: request.method) else {
            return try unmatched!(request, response)
        }
        var matched = request
        matched.parameters = match.parameters
        let pattern = routes[match.route].pattern
        matched.route = pattern
        RequestTracing.routeMatched(pattern, method: request.method.rawValue)
        try chains[match.route](matched, response)
    }

    /// The pattern and parameters of the route `handle` would run for `method` and `path`, with
    /// no request: for the router benchmark (bench/router).
    package func lookup(_ method: HTTPRequest.Method, _ path: String) -> (pattern: String, parameters: RouteParameters)? {
        trie.find(path, method: method).map { (routes[$0.route].pattern, $0.parameters) }
    }

    /// Wraps each route in its group's middleware and the router's, and the unmatched answer in
    /// the router's.
    private func compose() -> [Responder] {
        let chains = routes.map { route in
            // A group's scope holds the group's middleware (and its enclosing groups'); the router's goes around.
            scope.compose(route.scope === scope ? route.responder : route.scope.compose(route.responder))
        }
        self.chains = chains
        unmatched = scope.compose { [unowned self] request, _ in throw self.unmatchedError(request) }
        return chains
    }

    /// The 404, or the 405 with `Allow` naming the methods routes match the path for.
    func unmatchedError(_ request: Request) -> HTTPError {
        let path = request.path
        var allowed = trie.methods(matching: path)
        if allowed.isEmpty { return HTTPError(.notFound, "no route for \(path)") }
        if allowed.contains(.get) && !allowed.contains(.head) { allowed.append(.head) }
        var headers = HTTPFields()
        headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return HTTPError(.methodNotAllowed, "\(request.method.rawValue) is not allowed for \(path)", headers: headers)
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

    /// The pattern with its empty segments dropped: `/api/todos/:id` (`/` for the root).
    var text: String {
        "/" + segments.map { segment in
            switch segment {
            case .literal(let literal): literal
            case .parameter(let name): ":" + name
            case .rest: "*"
            }
        }.joined(separator: "/")
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
