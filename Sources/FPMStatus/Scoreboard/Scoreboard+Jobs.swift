import Atomics

/// A job pool's figures in its scoreboard header: what the status page, `fpmctl status` and
/// `top` show for it beside the slots (each worker's function, job handle and elapsed time are
/// in its slot, as a request's URI and script would be).
extension Scoreboard {
    /// Whether gearmand answered the master's last backlog query.
    package enum GearmanState: Int, Sendable {
        case unknown = 0
        case connected = 1
        case disconnected = 2

        package var displayName: String {
            switch self {
            case .unknown: "unknown"
            case .connected: "connected"
            case .disconnected: "disconnected"
            }
        }
    }

    /// Set once by the master at creation: the pool's workers take Gearman jobs.
    package var isJobPool: Bool { get { loadInt(H.isJobPool) != 0 } set { storeInt(newValue ? 1 : 0, at: H.isJobPool) } }

    /// Jobs that ended with WORK_COMPLETE (workers add).
    package var jobsDone: Int {
        get { atomic(H.jobsDone).load(ordering: .relaxed) }
        set { atomic(H.jobsDone).store(newValue, ordering: .relaxed) }
    }
    /// Jobs that ended with WORK_FAIL or WORK_EXCEPTION (workers add).
    package var jobsFailed: Int {
        get { atomic(H.jobsFailed).load(ordering: .relaxed) }
        set { atomic(H.jobsFailed).store(newValue, ordering: .relaxed) }
    }
    package func countJob(failed: Bool) {
        atomic(failed ? H.jobsFailed : H.jobsDone).wrappingIncrement(ordering: .relaxed)
    }

    /// Workers of an exec job pool that exited and were started again (the master writes).
    package var restarts: Int { get { loadInt(H.restarts) } set { storeInt(newValue, at: H.restarts) } }
    /// gearmand's backlog for the pool's functions: queued minus running, from its admin
    /// `status` (the master's last reading).
    package var backlog: Int { get { loadInt(H.backlog) } set { storeInt(newValue, at: H.backlog) } }
    package var maxBacklog: Int { get { loadInt(H.maxBacklog) } set { storeInt(newValue, at: H.maxBacklog) } }
    package var gearmanState: GearmanState {
        get { GearmanState(rawValue: loadInt(H.gearmanState)) ?? .unknown }
        set { storeInt(newValue.rawValue, at: H.gearmanState) }
    }
}
