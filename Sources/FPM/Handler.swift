import FPMConfiguration
import FPMServer

/// What a pool runs: synchronous Swift code that turns a request into a response.
///
/// A worker process serves one request at a time, so a handler needs no locking; state kept in
/// a class handler's properties lives for the life of its worker process. `setUp` runs once in
/// each worker after fork and before its first request (open a database connection there, not
/// in the master), `tearDown` when the worker exits gracefully.
public protocol Handler {
    /// Once per worker, after fork and privilege drop, before the first request. A thrown error
    /// makes the worker exit (the master logs it and respawns with back-off).
    func setUp(_ worker: WorkerInfo) throws
    /// One request. A thrown error becomes a 500 (when nothing was sent yet) and a log line.
    func handle(_ request: Request, _ response: Response) throws
    /// When the worker exits gracefully (max_requests, idle timeout, reload, stop).
    func tearDown()
}

extension Handler {
    public func setUp(_ worker: WorkerInfo) throws {}
    public func tearDown() {}
}

/// A handler made of a closure, for small apps and tests.
public struct ClosureHandler: Handler {
    let body: (Request, Response) throws -> Void
    let setUpBody: ((WorkerInfo) throws -> Void)?

    public init(setUp: ((WorkerInfo) throws -> Void)? = nil, _ body: @escaping (Request, Response) throws -> Void) {
        self.body = body
        self.setUpBody = setUp
    }

    public func setUp(_ worker: WorkerInfo) throws { try setUpBody?(worker) }
    public func handle(_ request: Request, _ response: Response) throws { try body(request, response) }
}

/// An app's handler as the server runs it: the public request and response are thin views over
/// the server's, so crossing this adapter costs no allocation.
struct AppHandler: RequestHandler {
    let app: any Handler

    func setUp(_ worker: WorkerContext) throws { try app.setUp(WorkerInfo(worker)) }
    func handle(_ request: ServerRequest, _ response: ServerResponse) throws {
        try app.handle(Request(request), Response(response))
    }
    func tearDown() { app.tearDown() }
}
