import FPMSystem

/// `pm.max_queue_wait` for one pool: the connections the master took out of the listen backlog
/// while no worker of the pool was idle, oldest first, each with the moment it has been waiting
/// since. Values in, steps out; `Master+Admission` does the I/O.
///
/// Why the master accepts at all: how long a connection has waited in the kernel's backlog
/// cannot be seen without accepting it. So while the pool is saturated the master takes waiting
/// connections out of the backlog, passes each to the first worker it sees idle (over the pool's
/// hand-off socket, through which workers already pass kept connections to each other), or at
/// its deadline answers it 503 itself (`AdmissionReply`). While a worker is idle none of this
/// engages: workers accept from the listener as always, and the master only looks at the pool
/// every ``samplePeriod(limit:)`` (no wake-up per connection, nothing on the request path).
///
/// The stamp: a connection found waiting is stamped with the last moment the backlog was known
/// empty (the master's previous look found nothing, or a worker was idle then), which is never
/// later than its arrival. The error is at most one sample period, toward answering early:
/// no connection the master holds waits past the limit. Workers still accept from the listener
/// between looks, so what they take there has waited less than a sample period.
struct AdmissionQueue {
    struct Held: Equatable {
        var connection: Int32
        var peer: PeerAddress
        /// Monotonic ns: waiting since (at the latest).
        var since: Int
    }

    enum Step: Equatable {
        /// Pass it to the pool's hand-off socket: an idle worker adopts it.
        case handOff(Held)
        /// It waited the limit: answer it 503.
        case reject(Held)
    }

    let limitNanos: Int
    private var held: [Held] = []
    private var head = 0
    /// When the backlog was last known empty.
    private(set) var lastEmpty: Int
    /// When the master looks at the pool next.
    private(set) var nextLook: Int

    init(limitNanos: Int, now: Int) {
        self.limitNanos = max(1_000_000, limitNanos)
        lastEmpty = now
        nextLook = now
    }

    /// How often the master looks at a pool it holds nothing for: a fifth of the limit,
    /// between 5 ms and 1 s.
    static func samplePeriod(limit: Int) -> Int { min(1_000_000_000, max(5_000_000, limit / 5)) }

    /// How often it looks while it holds connections, for an idle worker to pass them to.
    static func handOffPeriod(limit: Int) -> Int { min(5_000_000, max(1_000_000, limit / 10)) }

    var count: Int { held.count - head }
    var isEmpty: Bool { head == held.count }

    /// When the master must look next: the next look, or the oldest connection's deadline.
    var nextWake: Int {
        guard head < held.count else { return nextLook }
        return min(nextLook, held[head].since + limitNanos)
    }

    func isDue(now: Int) -> Bool { now >= nextWake }

    /// Whether to take connections out of the backlog: only when no worker is idle (an idle
    /// worker takes them itself, at no cost to anyone).
    static func shouldAccept(idle: Int) -> Bool { idle == 0 }

    /// A connection accepted from the backlog now.
    mutating func admit(_ connection: Int32, peer: PeerAddress) {
        held.append(Held(connection: connection, peer: peer, since: lastEmpty))
    }

    /// A kept connection whose next request arrived at `now` (it was in no backlog).
    mutating func admit(_ connection: Int32, peer: PeerAddress, since now: Int) {
        held.append(Held(connection: connection, peer: peer, since: now))
    }

    /// The backlog is empty at `now`: an accept found nothing, or a worker was idle to take
    /// what arrives.
    mutating func backlogEmpty(at now: Int) { lastEmpty = max(lastEmpty, now) }

    /// One look: the oldest go to the `idle` workers, then every one that has waited the limit
    /// is answered. Hand-off first: a worker free now serves sooner than any retry would.
    mutating func look(idle: Int, now: Int) -> [Step] {
        var steps: [Step] = []
        var free = idle
        while free > 0, head < held.count {
            steps.append(.handOff(held[head]))
            head += 1
            free -= 1
        }
        while head < held.count, now - held[head].since >= limitNanos {
            steps.append(.reject(held[head]))
            head += 1
        }
        compact()
        nextLook = now + (isEmpty ? Self.samplePeriod(limit: limitNanos) : Self.handOffPeriod(limit: limitNanos))
        return steps
    }

    /// A hand-off that did not go (the socket was full): first again.
    mutating func putBack(_ connection: Held) {
        if head > 0 {
            head -= 1
            held[head] = connection
        } else {
            held.insert(connection, at: 0)
        }
    }

    /// Everything held, oldest first, and nothing held any more.
    mutating func removeAll() -> [Held] {
        let all = Array(held[head...])
        held.removeAll()
        head = 0
        return all
    }

    private mutating func compact() {
        if head == held.count {
            held.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > held.count {
            held.removeFirst(head)
            head = 0
        }
    }
}
