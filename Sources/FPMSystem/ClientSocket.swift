import Glibc
import SystemPackage

/// The connecting side of a stream socket, for the blocking FastCGI client (fpmctl, fcgibench,
/// FPMTesting's live mode, the tests): a socket whose SO_RCVTIMEO/SO_SNDTIMEO bound every
/// connect, send and receive, connected to a unix path or to the first address of a host that
/// answers. Sending and receiving then go through `FileIO.sendAll` and `SocketIO.receive`.
package enum ClientSocket {
    /// Why a connection could not be made.
    package enum ConnectError: Error, Sendable, Equatable {
        /// The unix socket path is empty or longer than `sockaddr_un` holds.
        case invalidPath
        /// getaddrinfo failed for `host` (the target, or the local address to bind); `code` is
        /// its EAI_* result.
        case resolve(host: String, code: Int32)
        /// A system call failed; a connect that ran out of SO_SNDTIMEO fails with EINPROGRESS
        /// or EAGAIN.
        case system(SystemError)
    }

    /// Connects to the unix socket at `path`; `timeout` seconds (0: none) bound the connect
    /// and every later send and receive. The corresponding C functions are `socket`,
    /// `setsockopt` and `connect`.
    package static func connect(unixPath path: String, timeout: Double) throws(ConnectError) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let utf8 = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !utf8.isEmpty, utf8.count < capacity else { throw .invalidPath }
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            for (i, b) in utf8.enumerated() { dst[i] = b }
        }
        let fd = try newSocket(family: AF_UNIX, timeout: timeout)
        let len = socklen_t(MemoryLayout<sockaddr_un>.size)
        let failure = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> SystemError? in
                do throws(SystemError) { try connect(fd, p, len); return nil } catch { return error }
            }
        }
        if let failure {
            FileIO.close(fd)
            throw .system(failure)
        }
        return fd
    }

    /// Connects to `host:port`, trying each address getaddrinfo gives in turn; `bindAddress`
    /// (a numeric IP) binds the local end first. Throws the last address's failure.
    /// The corresponding C functions are `getaddrinfo`, `socket`, `setsockopt`, `bind` and `connect`.
    package static func connect(host: String, port: UInt16, timeout: Double, bindAddress: String?) throws(ConnectError) -> Int32 {
        let list = try resolve(host: host, port: port, flags: 0)
        defer { freeaddrinfo(list) }
        var lastError = ConnectError.resolve(host: host, code: EAI_NONAME)
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let ai = cursor {
            cursor = ai.pointee.ai_next
            let fd: Int32
            do {
                fd = try newSocket(family: ai.pointee.ai_family, timeout: timeout)
            } catch {
                lastError = error
                continue
            }
            do throws(ConnectError) {
                if let bindAddress {
                    let local = try resolve(host: bindAddress, port: 0, flags: AI_NUMERICHOST | AI_PASSIVE)
                    defer { freeaddrinfo(local) }
                    if Glibc.bind(fd, local.pointee.ai_addr, local.pointee.ai_addrlen) != 0 {
                        throw ConnectError.system(SystemError("bind(\(bindAddress))", Errno(rawValue: Glibc.errno)))
                    }
                }
                do throws(SystemError) {
                    try connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen)
                } catch {
                    throw .system(error)
                }
                return fd
            } catch {
                FileIO.close(fd)
                lastError = error
            }
        }
        throw lastError
    }

    /// `shutdown(SHUT_WR)`: the peer reads EOF after what was sent.
    package static func shutdownWrite(_ fd: Int32) throws(SystemError) {
        _ = try checked("shutdown") { Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    /// getaddrinfo's message for an EAI_* code. The corresponding C function is `gai_strerror`.
    package static func resolveMessage(_ code: Int32) -> String {
        String(cString: gai_strerror(code))
    }

    // MARK: Steps

    private static func newSocket(family: Int32, timeout: Double) throws(ConnectError) -> Int32 {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(SystemError("socket", Errno(rawValue: Glibc.errno))) }
        do throws(SystemError) {
            try setTimeouts(fd, timeout)
        } catch {
            FileIO.close(fd)
            throw .system(error)
        }
        return fd
    }

    private static func setTimeouts(_ fd: Int32, _ seconds: Double) throws(SystemError) {
        guard seconds > 0 else { return }
        let whole = seconds.rounded(.down)
        var tv = timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
        let size = socklen_t(MemoryLayout<timeval>.size)
        _ = try checked("setsockopt(SO_RCVTIMEO)") { Glibc.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, size) }
        _ = try checked("setsockopt(SO_SNDTIMEO)") { Glibc.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, size) }
    }

    /// connect(2), retrying EINTR.
    private static func connect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) throws(SystemError) {
        _ = try retrying("connect") { Glibc.connect(fd, addr, len) }
    }

    private static func resolve(host: String, port: UInt16, flags: Int32) throws(ConnectError) -> UnsafeMutablePointer<addrinfo> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | flags
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let result else { throw .resolve(host: host, code: rc) }
        return result
    }
}

extension SystemError {
    /// The errno value as C has it (for errors that carry a plain code).
    package var code: Int32 { errno.rawValue }

    /// A send, receive or connect on a socket with SO_SNDTIMEO/SO_RCVTIMEO that ran out of
    /// time: EAGAIN, or EINPROGRESS from connect.
    package var isSocketTimeout: Bool {
        switch call {
        case "send", "recv": errno == .wouldBlock
        case "connect": errno == .wouldBlock || errno == .nowInProgress
        default: false
        }
    }
}
