/// The tags the master's epoll wait hands back, one case per kind of descriptor it watches:
/// packed into epoll's 64-bit user data and read back by `init?(tag:)`.
extension Master {
    /// What woke the master's epoll wait.
    enum Wakeup {
        case signal
        /// A pool's listener has a connection waiting: an ondemand pool's, or one with no
        /// worker, whose connections the master answers itself (`Master+Admission`).
        case pendingConnection(pool: Int)
        /// A worker's stdout or stderr pipe has output (catch_workers_output).
        case workerOutput(fd: Int32)
        /// A `pm.status_listen` socket has a connection waiting.
        case statusListener(Int)
        /// A status-listener connection is readable or writable.
        case statusConnection(Int)
        /// A reload's running pool preparation wrote output (or exited).
        case preparationOutput
        /// A worker reported on its control channel (`WorkerReport`).
        case workerReports(fd: Int32)
        /// The master's duplicate of a kept connection hung up.
        case keptConnection(fd: Int32)
        /// A connection the master answers 503 is readable or writable (`Master+Admission`).
        case admissionReply(Int)
        /// A connection answered 503 that its web server keeps has its next request (or closed).
        case admissionKept(Int)
        /// A job pool's backlog query to gearmand is connected or has answer bytes (`BacklogQuery`).
        case jobBacklog(pool: Int)
        /// A pool's warm template said something (`ready`, `failed`) or ended.
        case warmTemplate(fd: Int32)

        static let workerOutputBase: UInt64 = 1 << 32

        var tag: UInt64 {
            switch self {
            case .signal: return 1
            case .pendingConnection(let pool): return 1000 + UInt64(pool)
            case .workerOutput(let fd): return Wakeup.workerOutputBase + UInt64(UInt32(bitPattern: fd))
            case .statusListener(let index): return 1 << 40 + UInt64(index)
            case .statusConnection(let id): return 1 << 41 + UInt64(id)
            case .preparationOutput: return 2
            case .workerReports(let fd): return 1 << 42 + UInt64(UInt32(bitPattern: fd))
            case .keptConnection(let fd): return 1 << 43 + UInt64(UInt32(bitPattern: fd))
            case .admissionReply(let id): return 1 << 44 + UInt64(id)
            case .admissionKept(let id): return 1 << 45 + UInt64(id)
            case .jobBacklog(let pool): return 1 << 46 + UInt64(pool)
            case .warmTemplate(let fd): return 1 << 47 + UInt64(UInt32(bitPattern: fd))
            }
        }

        init?(tag: UInt64) {
            if tag >= 1 << 47 { self = .warmTemplate(fd: Int32(bitPattern: UInt32(truncatingIfNeeded: tag))); return }
            if tag >= 1 << 46 { self = .jobBacklog(pool: Int(tag - 1 << 46)); return }
            if tag >= 1 << 45 { self = .admissionKept(Int(tag - 1 << 45)); return }
            if tag >= 1 << 44 { self = .admissionReply(Int(tag - 1 << 44)); return }
            if tag >= 1 << 43 { self = .keptConnection(fd: Int32(bitPattern: UInt32(truncatingIfNeeded: tag))); return }
            if tag >= 1 << 42 { self = .workerReports(fd: Int32(bitPattern: UInt32(truncatingIfNeeded: tag))); return }
            if tag >= 1 << 41 { self = .statusConnection(Int(tag - 1 << 41)); return }
            if tag >= 1 << 40 { self = .statusListener(Int(tag - 1 << 40)); return }
            if tag >= Wakeup.workerOutputBase { self = .workerOutput(fd: Int32(bitPattern: UInt32(truncatingIfNeeded: tag))); return }
            if tag == 2 { self = .preparationOutput; return }
            if tag == 1 { self = .signal } else if tag >= 1000 { self = .pendingConnection(pool: Int(tag - 1000)) } else { return nil }
        }
    }
}
