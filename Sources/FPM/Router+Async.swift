import FPMServer
import HTTPTypes

/// Async routes: the same registration as the synchronous ones, taking an `async` closure.
///
/// ```swift
/// router.get("/todos/:id") { request, response async throws in
///     let id = try request.parameters.require("id", as: Int.self)
///     try response.json(try await store.todo(id))
/// }
/// ```
///
/// An async route runs on the worker's executor (see ``AsyncHandler``) and costs nothing to
/// the router's synchronous routes. A closure that does not `await` picks the synchronous
/// overload.
extension Router {
    /// An async route's closure.
    public typealias AsyncResponder = (Request, Response) async throws -> Void

    /// Adds an async route for `method` and `pattern`.
    public func on(_ method: HTTPRequest.Method, _ pattern: String, _ responder: @escaping AsyncResponder) {
        on(method, pattern, Router.blocking(responder))
    }

    /// An async route as the synchronous responder the router runs: the worker's thread runs it
    /// on the worker's executor and waits for it.
    static func blocking(_ responder: @escaping AsyncResponder) -> Responder {
        { (request: Request, response: Response) throws in
            // The worker's thread blocks in `run` until the route has ended, and the route's
            // code runs on that thread: the request and response are never used by two threads.
            nonisolated(unsafe) let (request, response) = (request, response)
            try WorkerExecutor.run { try await responder(request, response) }
        }
    }

    /// Adds an async GET route.
    public func get(_ pattern: String, _ responder: @escaping AsyncResponder) { on(.get, pattern, responder) }
    /// Adds an async POST route.
    public func post(_ pattern: String, _ responder: @escaping AsyncResponder) { on(.post, pattern, responder) }
    /// Adds an async PUT route.
    public func put(_ pattern: String, _ responder: @escaping AsyncResponder) { on(.put, pattern, responder) }
    /// Adds an async PATCH route.
    public func patch(_ pattern: String, _ responder: @escaping AsyncResponder) { on(.patch, pattern, responder) }
    /// Adds an async DELETE route.
    public func delete(_ pattern: String, _ responder: @escaping AsyncResponder) { on(.delete, pattern, responder) }

    /// Adds async work for `setUp`, once per worker after fork (open a database connection).
    public func onSetUp(_ body: @escaping (WorkerInfo) async throws -> Void) {
        onSetUp { (worker: WorkerInfo) throws in try WorkerExecutor.run { try await body(worker) } }
    }

    /// Adds async work for `tearDown`, when a worker exits gracefully (close the connection).
    public func onTearDown(_ body: @escaping () async -> Void) {
        onTearDown { () -> Void in try? WorkerExecutor.run { await body() } }
    }

    /// Adds async work for the pool's once-per-generation preparation (see ``PoolPreparing``).
    public func onPrepare(_ body: @escaping (PoolInfo) async throws -> Void) {
        onPrepare { (pool: PoolInfo) throws in try WorkerExecutor.run { try await body(pool) } }
    }
}

/// Async routes in a group, as on the router.
extension RouteGroup {
    /// Adds an async route for `method` and `pattern` (under the group's prefix).
    public func on(_ method: HTTPRequest.Method, _ pattern: String, _ responder: @escaping Router.AsyncResponder) {
        on(method, pattern, Router.blocking(responder))
    }

    /// Adds an async GET route.
    public func get(_ pattern: String, _ responder: @escaping Router.AsyncResponder) { on(.get, pattern, responder) }
    /// Adds an async POST route.
    public func post(_ pattern: String, _ responder: @escaping Router.AsyncResponder) { on(.post, pattern, responder) }
    /// Adds an async PUT route.
    public func put(_ pattern: String, _ responder: @escaping Router.AsyncResponder) { on(.put, pattern, responder) }
    /// Adds an async PATCH route.
    public func patch(_ pattern: String, _ responder: @escaping Router.AsyncResponder) { on(.patch, pattern, responder) }
    /// Adds an async DELETE route.
    public func delete(_ pattern: String, _ responder: @escaping Router.AsyncResponder) { on(.delete, pattern, responder) }
}
