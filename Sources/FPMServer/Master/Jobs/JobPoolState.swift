import FPMStatus
import FPMSystem
import Gearman

/// What the master knows of a job pool's gearmand: the query in flight, each server's last
/// answer, and whether any answered.
final class JobPoolState {
    let servers: [GearmanServerAddress]
    /// Each server's host as a numeric address, resolved once (name resolution blocks).
    var numericHosts: [String?]
    var query: BacklogQuery?
    /// The server the next query goes to.
    var nextServer = 0
    /// Each server's last backlog for the pool's functions; nil: its last query failed.
    var serverBacklogs: [Int?]
    /// The state the log last told.
    var loggedState = Scoreboard.GearmanState.unknown

    init(servers: [GearmanServerAddress]) {
        self.servers = servers
        numericHosts = Array(repeating: nil, count: servers.count)
        serverBacklogs = Array(repeating: nil, count: servers.count)
    }

    /// The pool's backlog: the sum of the servers' last answers; nil when none answered.
    var backlog: Int? {
        let known = serverBacklogs.compactMap { $0 }
        return known.isEmpty ? nil : known.reduce(0, +)
    }
}
