import FPMSystem

/// The master's duplicates of the connections its workers keep open between requests (nginx's
/// `keepalive` with `fastcgi_keep_conn on`), so a worker's hard kill costs only the request it
/// was serving: its idle connections are offered to the pool again instead of dying with it.
///
/// Values in, commands out; `Master+KeptConnections` does the I/O. A connection is known by its
/// owner's pid and its descriptor number there; the owner changes only through the worker's own
/// reports, which arrive in order on its control channel (`WorkerReport`): `kept` (a new or
/// adopted connection, with the master's copy), `handedOn` (passed to the hand-off socket; the
/// adopter reports it again). A worker closing a connection shuts it down first, so the
/// duplicate sees the hang-up and is dropped (`hungUp`); no report, no wake-up per request.
///
/// The duplicates are numbers here, not owners: the value stays pure (tested on made-up
/// numbers) and `Master.apply` is the one place that closes them.
struct KeptConnectionRegistry {
    struct Entry: Equatable {
        var owner: Int32
        var workerFD: Int32
        var peer: PeerAddress
        var pool: String
    }

    enum Command: Equatable {
        /// Watch the duplicate for a hang-up (EPOLLRDHUP, never EPOLLIN).
        case watch(Int32)
        /// Stop watching and close the duplicate: the connection lives on where it is (or
        /// ends, if the duplicate was its last holder).
        case close(Int32)
        /// Shut the connection down, then close: a dead worker's request in hand, which may be
        /// half read or half answered; nginx must see it end.
        case shutDown(Int32)
        /// Offer a dead worker's idle connection to its pool's hand-off socket (unless it has
        /// hung up meanwhile), then close the duplicate; the adopter reports it again.
        case reoffer(Int32, peer: PeerAddress, pool: String)
        /// Over the capacity: close the copy just received without keeping it; the connection
        /// is only not protected against its worker's hard kill.
        case refuse(Int32)
    }

    /// Entries by the master's descriptor.
    private(set) var entries: [Int32: Entry] = [:]
    /// owner pid → its descriptor number → the master's descriptor.
    private var byOwner: [Int32: [Int32: Int32]] = [:]
    /// At most this many duplicates (a share of the master's RLIMIT_NOFILE).
    let capacity: Int
    /// Connections refused over the master's life (the first is logged).
    private(set) var refusals = 0

    init(capacity: Int) { self.capacity = max(0, capacity) }

    var count: Int { entries.count }

    /// A worker keeps `connection` (the master's copy) at its descriptor `workerFD`.
    mutating func kept(owner: Int32, workerFD: Int32, connection: Int32, peer: PeerAddress, pool: String) -> [Command] {
        var out: [Command] = []
        // The same number again: the worker closed the earlier one (shut down, its hang-up
        // not read yet) and reused the number.
        if let stale = byOwner[owner]?[workerFD] {
            forget(stale)
            out.append(.close(stale))
        }
        guard entries.count < capacity else {
            refusals += 1
            out.append(.refuse(connection))
            return out
        }
        entries[connection] = Entry(owner: owner, workerFD: workerFD, peer: peer, pool: pool)
        byOwner[owner, default: [:]][workerFD] = connection
        out.append(.watch(connection))
        return out
    }

    /// The worker passed its connection at `workerFD` to the hand-off socket.
    mutating func handedOn(owner: Int32, workerFD: Int32) -> [Command] {
        guard let fd = byOwner[owner]?[workerFD] else { return [] }
        forget(fd)
        return [.close(fd)]
    }

    /// The duplicate reported a hang-up: the connection is over (nginx closed it, or its
    /// worker shut it down).
    mutating func hungUp(_ fd: Int32) -> [Command] {
        guard entries[fd] != nil else { return [] }
        forget(fd)
        return [.close(fd)]
    }

    /// The worker `owner` is gone and every report it sent has been applied. `serving` is the
    /// descriptor its scoreboard slot said it was reading or answering (nil: idle).
    /// `reoffer` false (its slot cannot be trusted, or the pool has no hand-off socket):
    /// the duplicates are only closed, as if there were none.
    mutating func workerEnded(owner: Int32, serving: Int32?, reoffer: Bool) -> [Command] {
        guard let owned = byOwner.removeValue(forKey: owner) else { return [] }
        var out: [Command] = []
        for (workerFD, fd) in owned.sorted(by: { $0.key < $1.key }) {
            guard let entry = entries.removeValue(forKey: fd) else { continue }
            if !reoffer {
                out.append(.close(fd))
            } else if workerFD == serving {
                out.append(.shutDown(fd))
            } else {
                out.append(.reoffer(fd, peer: entry.peer, pool: entry.pool))
            }
        }
        return out
    }


    private mutating func forget(_ fd: Int32) {
        guard let entry = entries.removeValue(forKey: fd) else { return }
        byOwner[entry.owner]?[entry.workerFD] = nil
        if byOwner[entry.owner]?.isEmpty == true { byOwner[entry.owner] = nil }
    }
}
