import Glibc
import SystemPackage

/// `poll(2)` over a few descriptors, for code that waits on pipes (the CGI runner).
package enum Poll {
    package static let readable = Int16(POLLIN)
    package static let writable = Int16(POLLOUT)
    /// Error, hang-up or invalid: the descriptor will not become readable/writable again.
    package static let failed = Int16(POLLERR | POLLHUP | POLLNVAL)

    /// Waits until one of `fds` is ready or `timeoutMillis` passed (-1: no limit). Returns the
    /// number of ready descriptors; 0 on timeout or when a signal interrupted the wait (the
    /// caller re-evaluates its deadlines and calls again).
    /// The corresponding C function is `poll`.
    package static func wait(_ fds: inout [pollfd], timeoutMillis: Int32) throws(SystemError) -> Int {
        let r = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), timeoutMillis) }
        if r >= 0 { return Int(r) }
        let e = Glibc.errno
        if e == EINTR { return 0 }
        throw SystemError("poll", Errno(rawValue: e))
    }
}
