/// Whether the master asks for new work: it withdraws readiness from the moment a stop
/// (graceful or not) or a drain (`fpmctl drain`) starts, while it still serves what it has.
/// The master writes it to each pool's scoreboard, so the workers' ping page and `fpmctl
/// health` read the same thing the status listener's `/ready` answers with.
package enum MasterReadiness: Int, Sendable, Equatable {
    case ready = 0
    case draining = 1
    case stopping = 2

    /// Why readiness is off (nil: it is on), for `/ready`, ping and `fpmctl health`.
    package var withdrawnBecause: String? {
        switch self {
        case .ready: return nil
        case .draining: return "the master is draining (fpmctl drain)"
        case .stopping: return "the master is stopping"
        }
    }
}
