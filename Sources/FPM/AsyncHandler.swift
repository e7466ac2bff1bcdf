import FPMServer

/// A ``Handler`` whose work is `async`: for the Swift server libraries whose clients are async
/// (PostgresNIO, AsyncHTTPClient, the OpenAPI runtime).
///
/// ```swift
/// final class Todos: AsyncHandler {
///     var db: PostgresConnection?
///     func setUp(_ worker: WorkerInfo) async throws { db = try await PostgresConnection.connect(…) }
///     func handle(_ request: Request, _ response: Response) async throws {
///         let rows = try await db!.query("SELECT title FROM todos", logger: logger)
///         …
///     }
/// }
/// ```
///
/// The model stays the worker's: one request at a time per process. The worker's thread hands
/// the request to an executor of its own and runs the handler's code itself until it ends, so
/// the request's deadlines (request_terminate_timeout's 504), the slowlog's stack, a thrown
/// error's 500 and pm.max_memory behave as for a synchronous handler. Nothing starts a thread
/// (an awaited library may: a NIO event loop), and a handler that awaits nothing costs one task
/// per request. An `AsyncHandler` is a `Handler`: `FPMMain.run(handlers:)`, `TestClient` and a
/// pool's `handler =` take it as they are.
public protocol AsyncHandler: Handler {
    /// Once per worker, after fork and privilege drop, before the first request (open a
    /// connection here). A thrown error makes the worker exit.
    func setUp(_ worker: WorkerInfo) async throws
    /// One request. A thrown ``HTTPError`` is answered with its status; any other error
    /// becomes a 500 (when nothing was sent yet) and a line in the error log.
    func handle(_ request: Request, _ response: Response) async throws
    /// When the worker exits gracefully (close connections here).
    func tearDown() async
}

extension AsyncHandler {
    /// Nothing to set up by default.
    public func setUp(_ worker: WorkerInfo) async throws {}
    /// Nothing to tear down by default.
    public func tearDown() async {}

    /// Runs the async `setUp` on the worker's executor, blocking until it ends.
    public func setUp(_ worker: WorkerInfo) throws {
        nonisolated(unsafe) let handler = self
        try WorkerExecutor.run { try await handler.setUp(worker) }
    }

    /// Runs the async `handle` on the worker's executor, blocking until it ends.
    public func handle(_ request: Request, _ response: Response) throws {
        // The worker's thread blocks in `run` until the handler has ended and the handler's
        // code runs on that thread: the request and response are never used by two threads.
        nonisolated(unsafe) let (handler, request, response) = (self, request, response)
        try WorkerExecutor.run { try await handler.handle(request, response) }
    }

    /// Runs the async `tearDown` on the worker's executor, blocking until it ends.
    public func tearDown() {
        nonisolated(unsafe) let handler = self
        try? WorkerExecutor.run { await handler.tearDown() }
    }
}

/// A ``PoolPreparing`` handler whose preparation is `async` (a migration over an async driver).
public protocol AsyncPoolPreparing: PoolPreparing {
    /// The once-per-generation work. Throw to refuse the start or the reload.
    func prepare(_ pool: PoolInfo) async throws
}

extension AsyncPoolPreparing {
    /// Runs the async `prepare` on the process's executor, blocking until it ends.
    public func prepare(_ pool: PoolInfo) throws {
        nonisolated(unsafe) let preparing = self
        try WorkerExecutor.run { try await preparing.prepare(pool) }
    }
}
