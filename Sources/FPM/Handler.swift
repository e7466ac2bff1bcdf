/// What a pool runs: synchronous Swift code that turns a request into a response.
///
/// A worker process serves one request at a time, so a handler needs no locking; state kept in
/// a class handler's properties lives for the life of its worker process. `setUp` runs once in
/// each worker after fork and before its first request (open a database connection there, not
/// in the master), `tearDown` when the worker exits gracefully.
///
/// Most apps use a ``Router``, which is a `Handler`; implementing the protocol directly is for
/// an app that routes itself.
public protocol Handler {
    /// Once per worker, after fork and privilege drop, before the first request. A thrown error
    /// makes the worker exit (the master logs it and respawns with back-off).
    func setUp(_ worker: WorkerInfo) throws
    /// Once per pool generation, before any worker exists, when the pool has
    /// `pm.warm_template = yes`: in the pool's template process (as the pool's user, with its
    /// `env[...]`), which then forks the workers, so what this builds is shared copy-on-write by
    /// all of them (each worker then runs `setUp`). Without the directive it never runs. A
    /// thrown error names the pool: the master refuses to start (a reload keeps the running
    /// generation).
    ///
    /// Build what stays shared: Swift's reference counting writes into every object it
    /// retains, so a page holding class instances that requests touch is copied into each
    /// worker on first touch. Keep the shared data in contiguous storage with no references
    /// inside — one `[UInt8]`/`[Int32]`, or an `UnsafeMutableRawBufferPointer` allocated here
    /// and never freed — and read it through the buffer (`withUnsafeBufferPointer`), not as a
    /// graph of objects. See ``WarmTable``.
    func warmUp(_ pool: PoolInfo) throws
    /// One request. A thrown ``HTTPError`` is answered with its status; any other error
    /// becomes a 500 (when nothing was sent yet) and a line in the error log.
    func handle(_ request: Request, _ response: Response) throws
    /// When the worker exits gracefully (max_requests, idle timeout, reload, stop).
    func tearDown()
}

extension Handler {
    /// Nothing to set up by default.
    public func setUp(_ worker: WorkerInfo) throws {}
    /// Nothing to warm up by default.
    public func warmUp(_ pool: PoolInfo) throws {}
    /// Nothing to tear down by default.
    public func tearDown() {}
}

/// A handler whose pool needs work done once per pool generation, before any worker's
/// `setUp`: a schema migration, a cache warmed on disk.
///
/// `prepare` runs once when the master starts and once on each reload, in a process of its
/// own (the master forks and re-executes the binary on disk, so after a deploy the new code
/// prepares for the new workers), as the pool's user, with the pool's `env[...]`. The master
/// waits for it with a deadline. A thrown error is reported naming the pool: at start the
/// master refuses to start; on reload the reload is aborted and the running generation keeps
/// serving. It never runs in the master itself. Its standard output and error go to the master,
/// which logs them with a failure. A pool with `chroot` needs the binary at the same path inside
/// the chroot. The deadline is 60 s (the master's `SWIFT_FPM_PREPARE_TIMEOUT`, in seconds, sets
/// another). At start the master waits for it; on reload it runs beside the master's loop, which
/// goes on handling signals, the process manager and its status socket, and a reload asked for
/// meanwhile is ignored with a notice.
public protocol PoolPreparing {
    /// Whether there is anything to run; a router with no `prepare` closure says no, and no
    /// process is started for it.
    var preparesPool: Bool { get }
    /// The once-per-generation work. Throw to refuse the start or the reload.
    func prepare(_ pool: PoolInfo) throws
}

extension PoolPreparing {
    /// A type that conforms has something to prepare.
    public var preparesPool: Bool { true }
}

/// A handler made of a closure, for small apps and tests.
public struct ClosureHandler: Handler {
    let body: (Request, Response) throws -> Void
    let setUpBody: ((WorkerInfo) throws -> Void)?

    /// A handler that runs `body` for each request, and `setUp` (if any) once per worker.
    public init(setUp: ((WorkerInfo) throws -> Void)? = nil, _ body: @escaping (Request, Response) throws -> Void) {
        self.body = body
        self.setUpBody = setUp
    }

    /// Runs the `setUp` closure, if any.
    public func setUp(_ worker: WorkerInfo) throws { try setUpBody?(worker) }
    /// Runs the body closure.
    public func handle(_ request: Request, _ response: Response) throws { try body(request, response) }
}
