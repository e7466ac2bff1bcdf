import FPMConfiguration
import FPMServer

/// What a handler may want to know about the worker it runs in.
public struct WorkerInfo: Sendable {
    public var pool: String
    public var pid: Int32
    /// Position of this worker's slot in the pool's scoreboard (stable for its life).
    public var slot: Int
    /// The pool's `env[...]` settings as applied to this process.
    public var environment: [(String, String)]
    /// The pool's configuration (timeouts, chroot… for handlers that honour them); nil when
    /// the worker was started without one (tests).
    public var configuration: PoolConfiguration?

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
