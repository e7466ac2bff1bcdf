import HTTPTypes

/// Routes under a common path prefix with middleware of their own: an API's routes behind
/// authentication, an admin section. Made by ``Router/group(_:_:)`` (or ``group(_:_:)`` for a
/// nested one).
///
/// ```swift
/// router.group("/api") { api in
///     api.use(RequireToken())
///     api.get("/todos/:id") { request, response in … }      // GET /api/todos/:id
///     api.group("/admin") { admin in
///         admin.use(RequireAdmin())                         // after RequireToken
///         admin.delete("/todos/:id") { request, response in … }
///     }
/// }
/// ```
///
/// A group's middleware wraps its routes and those of its nested groups, inside the router's
/// middleware and outside a nested group's, whenever it was added (the chains are composed at
/// the first request). Its routes are the router's: the same matching, 404 and 405 rules.
public final class RouteGroup {
    let router: Router
    /// The prefix, normalized: `/api` (`/` for none).
    public let prefix: String
    let scope: MiddlewareScope

    init(router: Router, prefix: String, scope: MiddlewareScope) {
        self.router = router
        self.prefix = prefix
        self.scope = scope
    }

    /// Adds a route for `method` at `prefix` + `pattern`.
    public func on(_ method: HTTPRequest.Method, _ pattern: String, _ responder: @escaping Router.Responder) {
        router.add(method, prefix + "/" + pattern, responder, scope: scope)
    }

    /// Adds a GET route.
    public func get(_ pattern: String, _ responder: @escaping Router.Responder) { on(.get, pattern, responder) }
    /// Adds a POST route.
    public func post(_ pattern: String, _ responder: @escaping Router.Responder) { on(.post, pattern, responder) }
    /// Adds a PUT route.
    public func put(_ pattern: String, _ responder: @escaping Router.Responder) { on(.put, pattern, responder) }
    /// Adds a PATCH route.
    public func patch(_ pattern: String, _ responder: @escaping Router.Responder) { on(.patch, pattern, responder) }
    /// Adds a DELETE route.
    public func delete(_ pattern: String, _ responder: @escaping Router.Responder) { on(.delete, pattern, responder) }

    /// Adds `middleware` around this group's routes (and its nested groups'); the first added
    /// runs first.
    public func use(_ middleware: some Middleware) {
        scope.middleware.append(middleware)
        router.chains = nil
    }

    /// Adds a closure middleware.
    public func use(_ body: @escaping (Request, Response, Router.Responder) throws -> Void) {
        use(ClosureMiddleware(body))
    }

    /// The same as `use(_:)` with a middleware, named as in Hummingbird.
    public func add(middleware: some Middleware) { use(middleware) }

    /// A group nested in this one: its prefix follows this one's, its middleware runs inside
    /// this one's.
    @discardableResult
    public func group(_ prefix: String, _ build: (RouteGroup) -> Void = { _ in }) -> RouteGroup {
        let group = RouteGroup(router: router, prefix: RoutePattern(self.prefix + "/" + prefix).text,
                               scope: MiddlewareScope(parent: scope))
        build(group)
        return group
    }
}
