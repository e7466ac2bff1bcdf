import Glibc
import Synchronization
import SystemPackage

/// An open descriptor and the duty to close it, once: what a holder of a descriptor past one
/// function keeps (a worker's connection, its control channel, a CGI script's pipes, the
/// error and access logs, the master's output pipes and status sockets).
///
/// A pool's listener and hand-off socket are owned too (`PoolRuntime`, `HandoffSocket`); they
/// cross a reload's exec by number, and a half-failed start gives them up (`release()`) for
/// the fallback re-exec rather than closing them. Deliberately left as numbers: the values of
/// the pure bookkeeping tested on made-up numbers (`KeptConnectionRegistry`,
/// `ProcessControl.Child.control`, the master's `reportChannels` index), and borrowers of a
/// number someone else owns (`AccessLogWriter`).
///
/// A `~Copyable` struct of our own rather than swift-system's `FileDescriptor`: that one is a
/// copyable number, so two copies can each close it and a dropped one leaks silently, which is
/// the very bug an owner is for. This one cannot be copied, only borrowed (`rawValue` for a
/// call) or moved; `close()` consumes it, so a second close does not compile; and it is a bare
/// `Int32` in memory: no allocation, no reference count, nothing added to the worker's request
/// path. Where descriptors must live in a collection (the master's per-worker pipes and
/// channels), the collection's element is a class that holds one of these.
///
/// Misuse is caught, not thrown: an owner dropped without `close()` still closes its
/// descriptor, and in debug builds is counted in `leaked` (tests assert it stays 0); EBADF or
/// EFAULT from a call made through `call` or from the close itself trap, as in swift-nio:
/// they can only mean a bug here (a descriptor closed behind its owner's back, a bad buffer),
/// never something the peer did.
package struct OwnedDescriptor: ~Copyable {
    /// The descriptor's number, for the calls that take one; valid while this owner lives.
    package let rawValue: Int32

    /// Takes over `fd` (from `open`, `accept`, `pipe`, an inheritance…).
    @inline(__always)
    package init(owning fd: Int32) {
        rawValue = fd
    }

    /// Closes the descriptor. Consuming: there is no owner left to close it twice. It also
    /// leaves `DescriptorRegistry`, so a child forked later does not close a number reused by
    /// a descriptor the master did not register.
    /// The corresponding C function is `close`.
    package consuming func close() {
        let fd = rawValue
        discard self
        Self.close(fd)
    }

    /// Gives the descriptor up without closing it: to a call that takes it over (an exec that
    /// passes it on, a `dup2` onto 0, 1 or 2 followed by a close elsewhere).
    package consuming func release() -> Int32 {
        let fd = rawValue
        discard self
        return fd
    }

    /// Runs a system call wrapper on the descriptor: its errors are thrown, except EBADF and
    /// EFAULT, which trap (a bug of ours, not a condition to handle). Inlined: no closure
    /// context, no allocation.
    @inline(__always)
    package borrowing func call<T>(_ body: (Int32) throws(SystemError) -> T) throws(SystemError) -> T {
        do {
            return try body(rawValue)
        } catch {
            Self.trapIfBug(error, rawValue)
            throw error
        }
    }

    deinit {
        #if DEBUG
        Self.leaks.add(1, ordering: .relaxed)
        #endif
        Self.close(rawValue)
    }

    /// EBADF and EFAULT from a call on an owned descriptor: stop here, where the bug shows.
    package static func trapIfBug(_ error: SystemError, _ fd: Int32) {
        if error.errno.rawValue == EBADF || error.errno.rawValue == EFAULT {
            preconditionFailure("\(error) on owned descriptor \(fd): closed behind its owner's back, or a bad buffer")
        }
    }

    private static func close(_ fd: Int32) {
        DescriptorRegistry.unregister(fd)
        // Linux releases the descriptor even when close reports EINTR or EIO: never retried.
        if Glibc.close(fd) == -1 && Glibc.errno == EBADF {
            preconditionFailure("close(\(fd)): EBADF: an owned descriptor was closed twice, or behind its owner's back")
        }
    }

    #if DEBUG
    private static let leaks = Atomic<Int>(0)
    /// Owners dropped without `close()` (or `release()`) since the process started: a leak
    /// the deinit papered over. Debug builds only.
    package static var leaked: Int { leaks.load(ordering: .relaxed) }
    #endif
}
