import FPMSystem

/// Sockets this master did not open itself — a previous image's (a reload) or systemd's (socket
/// activation) — until a pool claims them in `openPools`; what no pool claims is closed.
/// Systemd's stay systemd's: their unix socket files are never removed.
struct InheritedSockets {
    /// Listeners by listen address as written (`127.0.0.1:9000`, `/run/fpm.sock`).
    private(set) var listeners: [String: Int32] = [:]
    /// Hand-off sockets by pool name.
    private(set) var handoffs: [String: HandoffSocket] = [:]
    /// Listen addresses served from sockets systemd passed.
    private(set) var activated: Set<String> = []

    mutating func offer(listener fd: Int32, for key: String, activated byActivation: Bool = false) {
        listeners[key] = fd
        if byActivation { activated.insert(key) }
    }

    mutating func offer(handoff: HandoffSocket, for pool: String) {
        handoffs[pool] = handoff
    }

    /// Addresses a previous image had from systemd (carried across execs).
    mutating func markActivated(_ keys: [String]) {
        activated.formUnion(keys)
    }

    func isActivated(_ key: String) -> Bool { activated.contains(key) }

    mutating func claimListener(_ key: String) -> Int32? { listeners.removeValue(forKey: key) }

    mutating func claimHandoff(_ pool: String) -> HandoffSocket? { handoffs.removeValue(forKey: pool) }

    /// Closes everything no pool claimed; returns the listen addresses closed.
    mutating func closeUnclaimed() -> [String] {
        var closed: [String] = []
        for (key, fd) in listeners.sorted(by: { $0.key < $1.key }) {
            FileIO.close(fd)
            if key.hasPrefix("/") && !activated.contains(key) { FileIO.unlink(key) }
            closed.append(key)
        }
        listeners.removeAll()
        for (_, handoff) in handoffs { handoff.close() }
        handoffs.removeAll()
        return closed
    }
}
