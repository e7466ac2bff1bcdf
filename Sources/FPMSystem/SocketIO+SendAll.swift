/// How the worker sends a response: all of it, never blocked in `send` for longer than the
/// client's read allows.
extension SocketIO {
    /// Sends all of `bytes`: one `send` when the socket takes them, as usual; when its buffer
    /// is full, waits for room at most `timeoutMillis` (-1: no limit) each time no byte went.
    /// False when such a wait ran out (the client stopped reading). No allocation; the
    /// syscalls are the sends and, only when the socket is full, the polls.
    /// The corresponding C functions are `send` and `poll`.
    @inline(__always)
    package static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer,
                                waitingAtMost timeoutMillis: Int32) throws(SystemError) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = try sendSome(fd, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            if n > 0 {
                offset += n
                continue
            }
            if try Poll.wait(fd, for: Poll.writable, timeoutMillis: timeoutMillis) == 0 { return false }
        }
        return true
    }
}
