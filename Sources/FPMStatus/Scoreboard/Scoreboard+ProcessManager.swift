import FPMConfiguration

/// How the scoreboard header records a pool's process manager (`Scoreboard.processManager`):
/// a number, so the header stays plain data.
extension ProcessManagerStyle {
    /// The number stored in the scoreboard header.
    package var rawIndex: Int {
        switch self {
        case .static: return 0
        case .dynamic: return 1
        case .ondemand: return 2
        }
    }

    package init?(rawIndex: Int) {
        switch rawIndex {
        case 0: self = .static
        case 1: self = .dynamic
        case 2: self = .ondemand
        default: return nil
        }
    }
}
