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

    /// Waits until `fd` is ready for `events` or `timeoutMillis` passed (-1: no limit); a
    /// signal that interrupts the wait restarts it with the time left. Returns the ready events
    /// (`revents`; 0 on timeout).
    /// The corresponding C function is `poll`.
    package static func wait(_ fd: Int32, for events: Int16, timeoutMillis: Int32) throws(SystemError) -> Int16 {
        let deadline = timeoutMillis > 0 ? SystemClock.monotonicNanos() + Int(timeoutMillis) * 1_000_000 : 0
        var timeout = timeoutMillis
        while true {
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = Glibc.poll(&p, 1, timeout)
            if r > 0 { return p.revents }
            if r == 0 { return 0 }
            let e = Glibc.errno
            guard e == EINTR else { throw SystemError("poll", Errno(rawValue: e)) }
            if timeoutMillis > 0 {
                let left = SystemClock.millisecondsLeft(until: deadline, now: SystemClock.monotonicNanos())
                if left == 0 { return 0 }
                timeout = left
            }
        }
    }
}
