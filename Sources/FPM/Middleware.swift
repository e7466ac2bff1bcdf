/// Code around a router's handlers: it sees the request before the handler and the response
/// after, and decides whether the handler runs at all.
///
/// ```swift
/// struct RequireToken: Middleware {
///     func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
///         guard request.header(.authorization) == "Bearer s3cret" else {
///             throw HTTPError(.unauthorized)          // short-circuit: the route never runs
///         }
///         try response.setHeader("X-Checked", "1")   // before
///         try next(request, response)                // the next middleware, then the route
///         // after: response.status is what the route set (headers may have gone out)
///     }
/// }
/// router.use(RequireToken())
/// ```
///
/// Calling `next` runs the rest of the chain; not calling it answers without the route (set a
/// status and write a body, or throw an ``HTTPError``). Errors `next` throws pass through a
/// middleware, which may catch them and answer instead (error mapping): an ``HTTPError`` a
/// route or an inner middleware threw has not been written yet, so its status can still be
/// read or replaced.
///
/// A router's middleware (`Router.use(_:)`) wraps every request, the 404 and 405 answers
/// included, after the route was looked up (so ``Request/route`` and
/// ``Request/parameters`` are known); a group's (`RouteGroup.use(_:)`) wraps its routes only.
/// The first added runs first. The chains are composed once, at the first request, so a
/// middleware costs one call per request and a router without any costs nothing.
///
/// Synchronous, like handlers; one request at a time per worker, so a middleware may keep
/// state in a class without locking (each worker has its own copy after fork).
public protocol Middleware {
    /// Handles one request: run `next` (or not) and do what comes before and after.
    func handle(_ request: Request, _ response: Response, next: Router.Responder) throws
}

/// A middleware made of a closure, for the one-off: `router.use { request, response, next in … }`.
public struct ClosureMiddleware: Middleware {
    let body: (Request, Response, Router.Responder) throws -> Void

    /// A middleware that runs `body`, which calls `next` to go on.
    public init(_ body: @escaping (Request, Response, Router.Responder) throws -> Void) { self.body = body }

    /// Runs the closure.
    public func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
        try body(request, response, next)
    }
}

/// The middleware a router or a group added, with the enclosing group's: a route keeps its
/// group's scope and reads it when the chains are composed, so middleware added to a group
/// after its routes still wraps them.
final class MiddlewareScope {
    let parent: MiddlewareScope?
    var middleware: [any Middleware] = []

    init(parent: MiddlewareScope?) { self.parent = parent }

    /// Every middleware from the outermost scope in, in the order added.
    var chain: [any Middleware] {
        (parent?.chain ?? []) + middleware
    }

    /// `responder` wrapped in this scope's middleware (and its parents'): the first added is
    /// the outermost. `responder` itself when there is none.
    func compose(_ responder: @escaping Router.Responder) -> Router.Responder {
        chain.reversed().reduce(responder) { next, middleware in
            { request, response in try middleware.handle(request, response, next: next) }
        }
    }
}
