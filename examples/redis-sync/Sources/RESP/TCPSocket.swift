// This example's only libc calls: a blocking TCP client socket with timeouts. (The server's
// own code keeps these in its FPMSystem module; the example is a separate package and keeps
// them here, in one file, for the same reason.)

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A connected, blocking TCP socket whose sends and receives give up after a timeout.
struct TCPSocket {
    private(set) var fd: Int32

    /// Resolves `host`, connects to the first address that answers; `timeout` (seconds) bounds
    /// the connect (SO_SNDTIMEO does on Linux) and every later send and receive.
    init(host: String, port: Int, timeout: Double) throws(RESPError) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { throw .resolve(host: host, code: rc) }
        defer { freeaddrinfo(list) }
        var lastError = RESPError.system(call: "connect", errno: ECONNREFUSED)
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let s = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard s >= 0 else { lastError = .system(call: "socket", errno: errno); continue }
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
            var one: Int32 = 1
            if timeout > 0 {
                setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            }
            // One small command, one small reply: Nagle would only add latency.
            setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if connect(s, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 {
                fd = s
                return
            }
            let e = errno
            lastError = (e == EINPROGRESS || e == EAGAIN) ? .timeout : .system(call: "connect", errno: e)
            Glibc.close(s)
        }
        throw lastError
    }

    /// Sends all of `bytes`.
    func send(_ bytes: [UInt8]) throws(RESPError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n >= 0 { sent += n; continue }
            let e = errno
            if e == EINTR { continue }
            throw (e == EAGAIN || e == EWOULDBLOCK) ? .timeout : .system(call: "send", errno: e)
        }
    }

    /// Receives up to `buffer.count` bytes into `buffer`; the count (never 0: a closed
    /// connection throws `.closed`).
    func receive(into buffer: inout [UInt8]) throws(RESPError) -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { return n }
            if n == 0 { throw .closed }
            let e = errno
            if e == EINTR { continue }
            // A reset is Redis closing too (with unread input on its side, or a kill).
            if e == ECONNRESET { throw .closed }
            throw (e == EAGAIN || e == EWOULDBLOCK) ? .timeout : .system(call: "recv", errno: e)
        }
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
