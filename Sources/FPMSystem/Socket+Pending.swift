import Glibc

extension Socket {
    /// Whether a listening socket has a connection waiting, without waiting for one.
    /// The corresponding C function is `poll` with a zero timeout.
    package static func hasPendingConnection(_ listener: Int32) -> Bool {
        var fds = [pollfd(fd: listener, events: Poll.readable, revents: 0)]
        return ((try? Poll.wait(&fds, timeoutMillis: 0)) ?? 0) > 0
    }
}
