import CFPMShims
import Glibc
import SystemPackage

/// The peer of an accepted connection, kept as raw bytes so the allowed-clients check and the
/// access log's `%R` cost no allocation until a string is really needed.
package struct PeerAddress: Sendable, Equatable {
    package enum Family: Sendable { case ipv4, ipv6, unix }
    package var family: Family
    /// 4 bytes for IPv4, 16 for IPv6 (an IPv4-mapped IPv6 peer is reported as IPv4).
    package var bytes: [UInt8]
    package var port: Int

    package static let unix = PeerAddress(family: .unix, bytes: [], port: 0)

    /// Same address, whatever the port (what `listen.allowed_clients` compares).
    package func sameHost(as other: PeerAddress) -> Bool {
        family == other.family && bytes == other.bytes
    }

    /// The textual address (`127.0.0.1`, `::1`), or `-` for a unix-socket peer.
    package var text: String {
        switch family {
        case .unix: return "-"
        case .ipv4, .ipv6:
            var out = [CChar](repeating: 0, count: 64)
            let af = family == .ipv4 ? AF_INET : AF_INET6
            let ok = bytes.withUnsafeBytes { b in inet_ntop(af, b.baseAddress, &out, socklen_t(out.count)) != nil }
            return ok ? String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "-"
        }
    }

    /// Parses an IPv4 or IPv6 literal (as `listen.allowed_clients` entries are), or nil.
    package init?(literal: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            self.family = .ipv4
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            self.port = 0
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, literal, &v6) == 1 {
            let raw = withUnsafeBytes(of: &v6) { Array($0) }
            if raw[0..<10].allSatisfy({ $0 == 0 }) && raw[10] == 0xff && raw[11] == 0xff {
                self.family = .ipv4
                self.bytes = Array(raw[12..<16])
            } else {
                self.family = .ipv6
                self.bytes = raw
            }
            self.port = 0
            return
        }
        return nil
    }

    package init(family: Family, bytes: [UInt8], port: Int) {
        self.family = family
        self.bytes = bytes
        self.port = port
    }

    init(storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let (addr, port): ([UInt8], Int) = withUnsafeBytes(of: &storage) { raw in
                let sin = raw.load(as: sockaddr_in.self)
                var a = sin.sin_addr
                return (withUnsafeBytes(of: &a) { Array($0) }, Int(UInt16(bigEndian: sin.sin_port)))
            }
            self.init(family: .ipv4, bytes: addr, port: port)
        case AF_INET6:
            let (addr, port): ([UInt8], Int) = withUnsafeBytes(of: &storage) { raw in
                let sin6 = raw.load(as: sockaddr_in6.self)
                var a = sin6.sin6_addr
                return (withUnsafeBytes(of: &a) { Array($0) }, Int(UInt16(bigEndian: sin6.sin6_port)))
            }
            if addr[0..<10].allSatisfy({ $0 == 0 }) && addr[10] == 0xff && addr[11] == 0xff {
                self.init(family: .ipv4, bytes: Array(addr[12..<16]), port: port)
            } else {
                self.init(family: .ipv6, bytes: addr, port: port)
            }
        default:
            self = .unix
        }
    }
}

/// Socket system calls: listening sockets for pools, accept, and the queue figures the status
/// page shows.
package enum Socket {
    package struct ListenError: Error, CustomStringConvertible, Sendable {
        package var message: String
        package var description: String { message }
    }

    /// Binds and listens on `host:port`. An empty host means every address: `::` dual-stack,
    /// falling back to `0.0.0.0` where IPv6 is unavailable (as php-fpm does for a bare port).
    package static func listenTCP(host: String, port: Int, backlog: Int32) throws(ListenError) -> Int32 {
        guard (1...65535).contains(port) else {
            throw ListenError(message: "invalid port value '\(port)'")
        }
        let display = host.contains(":") ? "[\(host)]:\(port)" : "\(host.isEmpty ? "*" : host):\(port)"
        var candidates: [(Int32, sockaddr_storage, socklen_t)] = []
        if host.isEmpty {
            if let a = makeAddress("::", port: port) { candidates.append(a) }
            if let a = makeAddress("0.0.0.0", port: port) { candidates.append(a) }
        } else if let a = makeAddress(host, port: port) {
            candidates.append(a)
        } else if let a = resolve(host, port: port) {
            candidates.append(a)
        } else {
            throw ListenError(message: "unable to resolve the listen address '\(host)'")
        }
        var lastError = ""
        for (family, storage, length) in candidates {
            let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 {
                lastError = "socket: \(Errno(rawValue: errno))"
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if family == AF_INET6 && host.isEmpty {
                var zero: Int32 = 0
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
            }
            var s = storage
            let rc = withUnsafePointer(to: &s) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
            }
            if rc != 0 {
                let e = Errno(rawValue: errno)
                Glibc.close(fd)
                lastError = "unable to bind listening socket for address '\(display)': \(e) (\(e.rawValue))"
                if family == AF_INET6 && host.isEmpty && (e == .addressFamilyNotSupported || e == .addressNotAvailable) { continue }
                throw ListenError(message: lastError)
            }
            if Glibc.listen(fd, backlog) != 0 {
                let e = Errno(rawValue: errno)
                Glibc.close(fd)
                throw ListenError(message: "unable to listen on '\(display)': \(e) (\(e.rawValue))")
            }
            // Accepted sockets inherit TCP_NODELAY from the listener on Linux: one setsockopt
            // here instead of one per connection.
            setNoDelay(fd)
            return fd
        }
        throw ListenError(message: lastError.isEmpty ? "unable to create a socket for '\(display)'" : lastError)
    }

    /// Binds and listens on a unix socket path with the given mode and owner. Refuses a path
    /// another live server answers on; removes a stale one.
    package static func listenUnix(path: String, backlog: Int32, mode: mode_t, owner: uid_t?, group: gid_t?) throws(ListenError) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let maxLength = MemoryLayout.size(ofValue: addr.sun_path) - 1
        guard path.utf8.count <= maxLength else {
            throw ListenError(message: "the unix socket path '\(path)' is longer than \(maxLength) bytes")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.size)
        // Is another instance serving this path?
        let probe = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        if probe >= 0 {
            let connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(probe, $0, length) }
            } == 0
            Glibc.close(probe)
            if connected {
                throw ListenError(message: "Another FPM instance seems to already listen on \(path)")
            }
        }
        Glibc.unlink(path)
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ListenError(message: "socket: \(Errno(rawValue: errno))") }
        // The socket file gets `mode` from the umask in force at bind, never wider for a moment.
        // The umask is the process's: fine in the single-threaded master; in a multi-threaded
        // process (a test runner) a child forked meanwhile inherits the narrowed one.
        let oldMask = umask(0o777 ^ (mode & 0o777))
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, length) }
        }
        let bindErrno = errno
        umask(oldMask)
        if rc != 0 {
            Glibc.close(fd)
            let e = Errno(rawValue: bindErrno)
            throw ListenError(message: "unable to bind listening socket for address '\(path)': \(e) (\(e.rawValue))")
        }
        if owner != nil || group != nil {
            if Glibc.lchown(path, owner ?? uid_t.max, group ?? gid_t.max) != 0 {
                let e = Errno(rawValue: errno)
                Glibc.close(fd)
                throw ListenError(message: "failed to chown() the socket '\(path)': \(e) (\(e.rawValue))")
            }
        }
        if Glibc.listen(fd, backlog) != 0 {
            let e = Errno(rawValue: errno)
            Glibc.close(fd)
            throw ListenError(message: "unable to listen on '\(path)': \(e) (\(e.rawValue))")
        }
        return fd
    }

    /// `accept4(2)` returning a close-on-exec, blocking descriptor; nil when nothing is pending
    /// on a non-blocking listener (another worker won the race).
    package static func accept(_ listener: Int32) throws(SystemError) -> (fd: Int32, peer: PeerAddress)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    cfpm_accept4(listener, $0, &length, Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if fd >= 0 { return (fd, PeerAddress(storage: storage)) }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN: return nil
            default: throw SystemError("accept4", Errno(rawValue: errno))
            }
        }
    }

    package static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Whether `fd` is a listening socket (SO_ACCEPTCONN): used to validate inherited descriptors.
    package static func isListening(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0 && value != 0
    }

    /// Current accept-queue length and its maximum for a listener: TCP_INFO for TCP (Linux
    /// reports the accept queue in `tcpi_unacked`, the backlog in `tcpi_sacked`), sock_diag for
    /// unix sockets; nil when the kernel does not tell.
    /// The corresponding C functions are `getsockopt(TCP_INFO)` and a `NETLINK_SOCK_DIAG` query.
    package static func listenQueue(_ fd: Int32) -> (length: Int, backlog: Int)? {
        var length: UInt32 = 0
        var backlog: UInt32 = 0
        if cfpm_tcp_listen_queue(fd, &length, &backlog) == 0 { return (Int(length), Int(backlog)) }
        guard cfpm_unix_listen_queue(fd, &length, &backlog) == 0 else { return nil }
        return (Int(length), Int(backlog))
    }

    /// ``listenQueue(_:)`` for many listeners, in order: TCP_INFO for each TCP one, and a
    /// single sock_diag dump for all the unix ones (asking per unix listener makes the kernel
    /// walk every unix socket each time: quadratic in the number of pools).
    /// The corresponding C functions are `getsockopt(TCP_INFO)`, `fstat` and a `NETLINK_SOCK_DIAG` dump.
    package static func listenQueues(_ fds: [Int32]) -> [(length: Int, backlog: Int)?] {
        var result = [(length: Int, backlog: Int)?](repeating: nil, count: fds.count)
        var unix: [(inode: UInt32, index: Int)] = []
        for (index, fd) in fds.enumerated() {
            var length: UInt32 = 0
            var backlog: UInt32 = 0
            if cfpm_tcp_listen_queue(fd, &length, &backlog) == 0 {
                result[index] = (Int(length), Int(backlog))
                continue
            }
            var info = stat()
            if fstat(fd, &info) == 0 { unix.append((UInt32(truncatingIfNeeded: info.st_ino), index)) }
        }
        guard !unix.isEmpty else { return result }
        unix.sort { $0.inode < $1.inode }
        let inodes = unix.map(\.inode)
        var lengths = [UInt32](repeating: 0, count: unix.count)
        var backlogs = [UInt32](repeating: 0, count: unix.count)
        var found = [UInt8](repeating: 0, count: unix.count)
        guard cfpm_unix_listen_queues(inodes, inodes.count, &lengths, &backlogs, &found) == 0 else { return result }
        for (i, entry) in unix.enumerated() where found[i] != 0 {
            result[entry.index] = (Int(lengths[i]), Int(backlogs[i]))
        }
        return result
    }

    static func makeAddress(_ host: String, port: Int) -> (Int32, sockaddr_storage, socklen_t)? {
        var storage = sockaddr_storage()
        var sin = sockaddr_in()
        if inet_pton(AF_INET, host, &sin.sin_addr) == 1 {
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: &sin) { raw.copyMemory(from: $0) }
            }
            return (AF_INET, storage, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
        var sin6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1 {
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(UInt16(port).bigEndian)
            withUnsafeMutableBytes(of: &storage) { raw in
                withUnsafeBytes(of: &sin6) { raw.copyMemory(from: $0) }
            }
            return (AF_INET6, storage, socklen_t(MemoryLayout<sockaddr_in6>.size))
        }
        return nil
    }

    static func resolve(_ host: String, port: Int) -> (Int32, sockaddr_storage, socklen_t)? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return nil }
        defer { freeaddrinfo(result) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
        }
        return (first.pointee.ai_family, storage, first.pointee.ai_addrlen)
    }
}
