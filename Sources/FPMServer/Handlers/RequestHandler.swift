import FPMSystem
import FPMConfiguration
import FastCGI

/// What a pool's worker runs, as the server sees it: the built-in handlers (`info`, `cgi`)
/// implement it directly; an app's `FPM.Handler` reaches it through an adapter in `FPM`.
///
/// A worker process serves one request at a time, so a handler needs no locking; state kept in
/// a class handler's properties lives for the life of its worker process. `setUp` runs once in
/// each worker after fork and before its first request (open a database connection there, not
/// in the master), `tearDown` when the worker exits gracefully.
package protocol RequestHandler {
    /// Once per worker, after fork and privilege drop, before the first request. A thrown error
    /// makes the worker exit (the master logs it and respawns with back-off).
    func setUp(_ worker: WorkerContext) throws
    /// One request. A thrown error becomes a 500 (when nothing was sent yet) and a log line.
    func handle(_ request: ServerRequest, _ response: ServerResponse) throws
    /// When the worker exits gracefully (max_requests, idle timeout, reload, stop).
    func tearDown()
    /// Whether the pool has work to run once per generation before any worker's `setUp`
    /// (`PoolPreparation`); false for the built-in handlers.
    var preparesPool: Bool { get }
    /// That work, in a process of its own started by the master (never in the master).
    func preparePool(_ pool: PoolContext) throws
    /// Under `pm.warm_template`: once per pool generation, in the pool's template process,
    /// before it forks the workers, which share what it built copy-on-write.
    func warmUp(_ pool: PoolContext) throws
}

extension RequestHandler {
    package func setUp(_ worker: WorkerContext) throws {}
    package func tearDown() {}
    package var preparesPool: Bool { false }
    package func preparePool(_ pool: PoolContext) throws {}
    package func warmUp(_ pool: PoolContext) throws {}
}

/// What a handler may want to know about the worker it runs in.
package struct WorkerContext: Sendable {
    package var pool: String
    package var pid: Int32
    /// Position of this worker's slot in the pool's scoreboard (stable for its life).
    package var slot: Int
    /// The pool's `env[...]` settings as applied to this process.
    package var environment: [(String, String)]
    /// The pool's configuration (limit extensions, timeouts, chroot… for handlers that honour
    /// them, such as `cgi`); nil when the worker was started without one (tests).
    package var configuration: PoolConfiguration?
    /// The pool's error log (nil in tests: lines then go to stderr).
    package var log: ErrorLog?

    package init(pool: String, pid: Int32, slot: Int, environment: [(String, String)],
                configuration: PoolConfiguration? = nil, log: ErrorLog? = nil) {
        self.pool = pool
        self.pid = pid
        self.slot = slot
        self.environment = environment
        self.configuration = configuration
        self.log = log
    }
}
