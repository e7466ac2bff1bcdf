import FPMSystem

/// The master's admission control, as state (`Master+Admission` does the I/O): it answers a
/// pool's connections `503` with `Retry-After` itself in two cases, so a balancer can send the
/// request to another host (nginx: `fastcgi_next_upstream http_503`) instead of it waiting in
/// the listen backlog until the front end gives up:
///
/// - `pm.max_queue_wait`: a connection that waited that long without a worker (`AdmissionQueue`);
/// - a pool with no worker at all (every one dies at start: a bad deploy, a failing setUp), for
///   as long as it has none.
///
/// The answers themselves are `AdmissionReply` conversations in the master's epoll
/// (edge-triggered, non-blocking, each with a deadline), as the status listener's are.
struct Admission {
    /// A conversation the master is having with a web server to answer it 503.
    struct Reply {
        let fd: Int32
        let pool: Int
        let peer: PeerAddress
        /// When the connection started waiting (monotonic ns), for the access log's duration.
        let since: Int
        var state: AdmissionReply
    }

    /// A kept connection between two requests: where it goes when the next one comes.
    struct Kept {
        let fd: Int32
        let pool: Int
        let peer: PeerAddress
    }

    /// At most this many conversations at once; more connections are closed unanswered (a
    /// flood must not cost the master its descriptors).
    static let maxReplies = 1024
    /// At most this many connections taken out of one pool's backlog per look.
    static let acceptPerLook = 64
    /// How often every pool is checked for having lost its last worker, besides whenever the
    /// number of children changed (an exit, a fork).
    static let downCheckNanos = 1_000_000_000

    /// `pm.max_queue_wait` pools' queues, by pool index (made at the first pass).
    var queues: [Int: AdmissionQueue] = [:]
    var configured = false
    /// Pools the master answers itself because they have no worker (their listener is in the
    /// master's epoll meanwhile), by pool index.
    var down: Set<Int> = []
    var nextDownCheck = 0
    var lastChildCount = -1
    var replies: [Int: Reply] = [:]
    var nextReplyID = 0
    /// Connections answered 503 that the web server keeps (FCGI_KEEP_CONN), waiting in the
    /// master's epoll for its next request, by the id of the reply that answered them.
    var kept: [Int: Kept] = [:]
    /// Shared by every conversation's reads.
    var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    /// Log lines once per pool and episode, not per connection.
    var warnedSaturated: Set<Int> = []

    /// When the loop must wake for admission: a queue's next look or deadline, a reply's
    /// deadline. (Down checks ride on wake-ups that happen anyway: SIGCHLD, the tick.)
    func nextWake() -> Int? {
        // The first pass sets things up: at once, not after the first tick.
        guard configured else { return 0 }
        var next: Int? = nil
        func consider(_ t: Int) { next = min(next ?? t, t) }
        for queue in queues.values { consider(queue.nextWake) }
        for reply in replies.values { consider(reply.state.deadline) }
        return next
    }
}
