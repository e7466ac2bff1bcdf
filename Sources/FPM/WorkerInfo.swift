import FPMConfiguration
import FPMServer

/// What a handler may want to know about the worker it runs in, given to `Handler.setUp`.
public struct WorkerInfo: Sendable {
    /// The pool's name, as in its `[name]` section.
    public var pool: String
    /// This worker's process id.
    public var pid: Int32
    /// Position of this worker's slot in the pool's scoreboard (stable for its life).
    public var slot: Int
    /// The pool's `env[...]` settings as applied to this process.
    public var environment: [(String, String)]
    /// The pool's configuration (timeouts, chroot… for handlers that honour them); nil when
    /// the worker was started without one (tests).
    public var configuration: PoolConfiguration?

    /// A worker's identity, as the server builds it (and as tests may, for `setUp`).
    public init(pool: String, pid: Int32, slot: Int, environment: [(String, String)],
                configuration: PoolConfiguration? = nil) {
        self.pool = pool
        self.pid = pid
        self.slot = slot
        self.environment = environment
        self.configuration = configuration
    }

    init(_ context: WorkerContext) {
        self.init(pool: context.pool, pid: context.pid, slot: context.slot, environment: context.environment,
                  configuration: context.configuration)
    }
}

/// What a pool's once-per-generation preparation knows of its pool, given to
/// `PoolPreparing.prepare(_:)`.
public struct PoolInfo: Sendable {
    /// The pool's name, as in its `[name]` section.
    public var name: String
    /// The pool's `env[...]` settings, applied to the preparing process as to a worker's.
    public var environment: [(String, String)]
    /// The pool's configuration; nil in tests.
    public var configuration: PoolConfiguration?

    /// A pool's identity, as the server builds it (and as tests may, for `prepare`).
    public init(name: String, environment: [(String, String)] = [], configuration: PoolConfiguration? = nil) {
        self.name = name
        self.environment = environment
        self.configuration = configuration
    }
}
