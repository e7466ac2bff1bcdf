import Glibc
import SystemPackage

/// A TCP connect that never blocks its caller, for the master's loop (a job pool's backlog
/// query to gearmand): the socket is non-blocking from the start, the connect returns at once
/// (usually EINPROGRESS), the caller waits for it to become writable in its epoll and then asks
/// how it ended. Only numeric addresses: name resolution blocks, so a host name is resolved
/// once beforehand (`numericAddress`), outside the hot path.
package enum NonBlockingConnect {
    /// Starts connecting to the numeric `host` (IPv4 or IPv6) and `port`: the socket, and
    /// whether it is connected already (loopback may be).
    /// The corresponding C functions are `getaddrinfo`, `socket` and `connect`.
    package static func start(numericHost host: String, port: UInt16) throws(SystemError) -> (fd: Int32, connected: Bool) {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let ai = result else {
            throw SystemError("getaddrinfo(\(host))", Errno(rawValue: EINVAL))
        }
        defer { freeaddrinfo(result) }
        let fd = Glibc.socket(ai.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", Errno(rawValue: Glibc.errno)) }
        while true {
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return (fd, true) }
            let e = Glibc.errno
            if e == EINTR { continue }
            if e == EINPROGRESS { return (fd, false) }
            Glibc.close(fd)
            throw SystemError("connect", Errno(rawValue: e))
        }
    }

    /// How a connect that became writable ended: nil when connected, its error otherwise.
    /// The corresponding C function is `getsockopt(SO_ERROR)`.
    package static func outcome(_ fd: Int32) -> SystemError? {
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        if Glibc.getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 {
            return SystemError("getsockopt(SO_ERROR)", Errno(rawValue: Glibc.errno))
        }
        return error == 0 ? nil : SystemError("connect", Errno(rawValue: error))
    }

    /// `host`'s first address as numeric text (itself when already numeric); nil when it does
    /// not resolve. Blocks for a name: called once per pool generation, not per query.
    /// The corresponding C functions are `getaddrinfo` and `getnameinfo`.
    package static func numericAddress(host: String) -> String? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let ai = result else { return nil }
        defer { freeaddrinfo(result) }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(ai.pointee.ai_addr, ai.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else {
            return nil
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
