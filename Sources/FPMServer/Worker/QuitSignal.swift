import Atomics
import FPMSystem
import Glibc

/// SIGQUIT in a worker (the master's fallback when the control channel is full, or a user's
/// `kill -QUIT`): finish the request in hand, then leave.
///
/// The worker's only global mutable state, because a signal handler can reach nothing else:
/// the handler sets a flag the worker reads between requests, and writes to a self-pipe the
/// worker's epoll watches, so a quit that arrives while it waits wakes it at once.
enum QuitSignal {
    /// Set by the handler, never cleared (the worker is leaving). A lock-free atomic, which
    /// a signal handler may store to.
    private static let flag = UnsafeAtomic<Bool>.create(false)
    /// The self-pipe's write end, set once before the handler is installed and never changed.
    nonisolated(unsafe) private static var wakeUp: Int32 = -1

    /// Whether SIGQUIT arrived.
    static var requested: Bool { flag.load(ordering: .relaxed) }

    /// Installs the handler; returns the self-pipe's read end for the worker's epoll.
    static func install() throws(SystemError) -> Int32 {
        let pipe = try FileIO.pipe(nonBlocking: true)
        // Touch the lazily initialized flag here: its first use must not be in the handler.
        _ = requested
        wakeUp = pipe.write
        Signals.handle(SIGQUIT, restart: true) { _ in
            QuitSignal.flag.store(true, ordering: .relaxed)
            SocketIO.notify(selfPipe: QuitSignal.wakeUp)
        }
        return pipe.read
    }
}
