import FPMServer

/// What a job pool runs: synchronous Swift code that turns one Gearman job into a result.
///
/// A job pool (a pool with `gearman.servers` and no `listen`) names it with `handler =`. Each
/// worker takes one job at a time, so a handler needs no locking; state kept in a class
/// handler lives for the life of its worker. `setUp` and `tearDown` mean what they mean for a
/// ``Handler``; a job handler that also conforms to ``PoolPreparing`` gets the once-per-pool
/// preparation. The job is acknowledged to gearmand only after `run` returned or threw: a
/// worker that dies meanwhile costs no job, gearmand hands it to another worker.
public protocol JobHandler {
    /// Once per worker, after fork and privilege drop, before the first job. A thrown error
    /// makes the worker exit (the master logs it and respawns with back-off).
    func setUp(_ worker: WorkerInfo) throws
    /// One job; the bytes returned are its result (WORK_COMPLETE). Throw ``JobFailed`` to fail
    /// it without a text (WORK_FAIL); any other error fails it with the error's description
    /// (WORK_EXCEPTION), is logged, and the worker goes on with the next job.
    /// Once per pool generation, in the pool's warm template (`pm.warm_template = yes`), before
    /// any worker is forked from it: what it builds is shared copy-on-write by every worker.
    /// Build contiguous storage, not graphs of objects (see ``Handler/warmUp(_:)`` and
    /// ``WarmTable``). Without the directive it is not called.
    func warmUp(_ pool: PoolInfo) throws
    func run(_ job: Job) throws -> [UInt8]
    /// When the worker exits gracefully (max_requests, idle, reload, stop).
    func tearDown()
}

extension JobHandler {
    /// Nothing to set up by default.
    public func setUp(_ worker: WorkerInfo) throws {}
    /// Nothing to warm up by default.
    public func warmUp(_ pool: PoolInfo) throws {}
    /// Nothing to tear down by default.
    public func tearDown() {}
}

/// Thrown by a job handler: the job failed, with no text to say why (WORK_FAIL).
public struct JobFailed: Error, Sendable {
    public init() {}
}

/// A job handler made of a closure, for small apps and tests.
public struct ClosureJobHandler: JobHandler {
    let body: (Job) throws -> [UInt8]
    let setUpBody: ((WorkerInfo) throws -> Void)?

    /// A handler that runs `body` for each job, and `setUp` (if any) once per worker.
    public init(setUp: ((WorkerInfo) throws -> Void)? = nil, _ body: @escaping (Job) throws -> [UInt8]) {
        self.body = body
        self.setUpBody = setUp
    }

    /// Runs the `setUp` closure, if any.
    public func setUp(_ worker: WorkerInfo) throws { try setUpBody?(worker) }
    /// Runs the body closure.
    public func run(_ job: Job) throws -> [UInt8] { try body(job) }
}
