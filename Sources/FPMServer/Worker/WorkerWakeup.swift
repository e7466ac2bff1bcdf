/// What woke a worker: each descriptor it watches is registered in its epoll with one of
/// these, encoded in the event's 64-bit data word (here only).
enum WorkerWakeup: Equatable {
    /// The pool's listening socket: a connection to accept.
    case listener
    /// The control channel from the master (`ControlMessage`).
    case control
    /// The SIGQUIT self-pipe (`QuitSignal`).
    case quitSignal
    /// The pool's hand-off socket: a sibling passed on a kept connection.
    case handoff
    /// An idle kept connection, by its descriptor: the web server sent the next request, or closed it.
    case connection(Int32)

    /// A data word no registration uses: an event blanked after its connection was passed on.
    static let blank: UInt64 = 99

    /// Connections carry their descriptor in the low 32 bits under this flag; the others are small numbers.
    private static let connectionFlag: UInt64 = 1 << 32

    var data: UInt64 {
        switch self {
        case .listener: return 0
        case .control: return 1
        case .quitSignal: return 2
        case .handoff: return 3
        case .connection(let fd): return Self.connectionFlag | UInt64(UInt32(bitPattern: fd))
        }
    }

    init?(data: UInt64) {
        if data & Self.connectionFlag != 0 {
            self = .connection(Int32(bitPattern: UInt32(truncatingIfNeeded: data)))
            return
        }
        switch data {
        case 0: self = .listener
        case 1: self = .control
        case 2: self = .quitSignal
        case 3: self = .handoff
        default: return nil
        }
    }
}
