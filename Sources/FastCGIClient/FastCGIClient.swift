// A small blocking FastCGI client for fpmctl and the tests: one connection, requests in
// sequence, timeouts from the socket options. The only I/O in this module.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the client failed; system failures name the call and the errno.
public enum FastCGIClientError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidAddress(String)
    /// getaddrinfo failed for `host`; `code` is its EAI_* result.
    case resolve(host: String, code: Int32)
    case system(call: String, errno: Int32)
    /// SO_RCVTIMEO/SO_SNDTIMEO expired in `call`.
    case timedOut(call: String)
    /// The application closed the connection (EOF) `during` something that needed more bytes.
    case connectionClosed(during: String)
    /// The application sent bytes that are not valid FastCGI.
    case protocolError(FastCGIError)
    case closed

    public var description: String {
        switch self {
        case .invalidAddress(let a): return "invalid FastCGI address '\(a)'"
        case .resolve(let host, let code): return "getaddrinfo(\(host)): \(String(cString: gai_strerror(code)))"
        case .system(let call, let e): return "\(call): \(String(cString: strerror(e))) (errno \(e))"
        case .timedOut(let call): return "\(call): timed out"
        case .connectionClosed(let during): return "connection closed by the application \(during)"
        case .protocolError(let e): return e.description
        case .closed: return "client already closed"
        }
    }
}

/// A blocking FastCGI client over TCP (IPv4/IPv6) or a unix socket.
public final class FastCGIClient {
    public let address: FastCGIAddress
    private var fd: Int32
    private var inbox: [UInt8] = []

    /// Connects to `address`. `timeout` (seconds) bounds connect and every send and receive;
    /// `bindAddress` (a numeric IP) binds the local end first.
    public init(connectingTo address: FastCGIAddress, timeout: Double = 10, bindAddress: String? = nil) throws(FastCGIClientError) {
        self.address = address
        self.fd = -1
        switch address.kind {
        case .unix(let path):
            fd = try Self.connectUnix(path: path, timeout: timeout)
        case .tcp(_, let port):
            fd = try Self.connectTCP(host: address.connectHost!, port: port, timeout: timeout, bind: bindAddress)
        }
    }

    /// Parses `address` and connects.
    public convenience init(connectingTo address: String, timeout: Double = 10, bindAddress: String? = nil) throws(FastCGIClientError) {
        guard let a = FastCGIAddress(address) else { throw .invalidAddress(address) }
        try self.init(connectingTo: a, timeout: timeout, bindAddress: bindAddress)
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    /// The connected descriptor (for tests that need to poll it); -1 once closed.
    public var fileDescriptor: Int32 { fd }

    /// Closes the connection. Idempotent.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Half-closes: the application reads EOF after what was sent.
    public func shutdownWrite() throws(FastCGIClientError) {
        guard fd >= 0 else { throw .closed }
        if shutdown(fd, Int32(SHUT_WR)) != 0 { throw .system(call: "shutdown", errno: errno) }
    }

    // MARK: Requests

    /// Sends one whole request (BEGIN_REQUEST, PARAMS, STDIN with `body`) and reads records
    /// until this request's END_REQUEST. Records for other ids are ignored. The body is sent
    /// before anything is read: an application that answers a large body before reading it
    /// all can fill both socket buffers, which ends in a send timeout.
    public func request(
        params: [(String, String)], body: [UInt8] = [], requestID: UInt16 = 1, keepConnection: Bool = false,
        role: Role = .responder
    ) throws(FastCGIClientError) -> FastCGIResponse {
        var out = Records.beginRequest(requestID: requestID, role: role, keepConnection: keepConnection)
        Records.appendStream(type: .params, requestID: requestID, content: NameValuePairs.encode(params), to: &out)
        Records.appendStream(type: .stdin, requestID: requestID, content: body, to: &out)
        try sendRaw(out)
        return try readResponse(requestID: requestID)
    }

    /// Reads records until END_REQUEST for `requestID`, collecting its STDOUT and STDERR.
    public func readResponse(requestID: UInt16 = 1) throws(FastCGIClientError) -> FastCGIResponse {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        while true {
            guard let (header, content) = try readRecord() else {
                throw .connectionClosed(during: "before END_REQUEST of request \(requestID)")
            }
            guard header.requestID == requestID else { continue }
            switch header.recordType {
            case .stdout: stdout += content
            case .stderr: stderr += content
            case .endRequest:
                guard let end = EndRequestBody.decode(content) else {
                    throw .protocolError(.invalidEndRequestBody(length: content.count))
                }
                return FastCGIResponse(
                    stdout: stdout, stderr: stderr, appStatus: end.appStatus,
                    protocolStatus: ProtocolStatus(rawValue: end.protocolStatus) ?? .requestComplete)
            default: continue
            }
        }
    }

    /// Asks FCGI_GET_VALUES for `names`; returns the pairs the application answered.
    public func getValues(_ names: [String]) throws(FastCGIClientError) -> [(String, String)] {
        var out: [UInt8] = []
        Records.append(type: .getValues, requestID: 0, content: NameValuePairs.encode(names.map { ($0, "") }), to: &out)
        try sendRaw(out)
        while true {
            guard let (header, content) = try readRecord() else {
                throw .connectionClosed(during: "before GET_VALUES_RESULT")
            }
            guard header.recordType == .getValuesResult else { continue }
            do {
                return try NameValuePairs.decode(content)
            } catch {
                throw .protocolError(error)
            }
        }
    }

    // MARK: Raw access for tests

    /// Writes `bytes` as they are (the whole buffer, retrying partial writes and EINTR).
    public func sendRaw(_ bytes: [UInt8]) throws(FastCGIClientError) {
        guard fd >= 0 else { throw .closed }
        var failure: FastCGIClientError?
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n >= 0 { offset += n; continue }
                let e = errno
                if e == EINTR { continue }
                failure = (e == EAGAIN || e == EWOULDBLOCK) ? .timedOut(call: "send") : .system(call: "send", errno: e)
                return
            }
        }
        if let failure { throw failure }
    }

    /// Reads one record; nil on EOF at a record boundary. Throws `.connectionClosed` for EOF
    /// inside a record and `.protocolError` for a version other than 1.
    public func readRecord() throws(FastCGIClientError) -> (header: RecordHeader, content: [UInt8])? {
        while true {
            if let header = RecordHeader.decode(inbox) {
                guard header.version == fcgiVersion1 else { throw .protocolError(.unsupportedVersion(header.version)) }
                let total = RecordHeader.size + header.bodyLength
                if inbox.count >= total {
                    let content = Array(inbox[RecordHeader.size..<RecordHeader.size + Int(header.contentLength)])
                    inbox.removeSubrange(0..<total)
                    return (header, content)
                }
            }
            if try receive() == 0 {
                if inbox.isEmpty { return nil }
                throw .connectionClosed(during: "inside a record (\(inbox.count) bytes buffered)")
            }
        }
    }

    /// Reads until EOF; returns everything received (bytes already buffered first).
    public func readAll() throws(FastCGIClientError) -> [UInt8] {
        while try receive() > 0 {}
        defer { inbox.removeAll() }
        return inbox
    }

    /// One recv into `inbox`; returns the byte count (0 at EOF).
    private func receive() throws(FastCGIClientError) -> Int {
        guard fd >= 0 else { throw .closed }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n > 0 {
                inbox.append(contentsOf: chunk[0..<n])
                return n
            }
            if n == 0 { return 0 }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { throw .timedOut(call: "recv") }
            if e == ECONNRESET { return 0 }
            throw .system(call: "recv", errno: e)
        }
    }

    // MARK: Connecting

    private static func setTimeouts(_ fd: Int32, _ seconds: Double) throws(FastCGIClientError) {
        guard seconds > 0 else { return }
        let whole = seconds.rounded(.down)
        var tv = timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
        let size = socklen_t(MemoryLayout<timeval>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, size) != 0 { throw .system(call: "setsockopt(SO_RCVTIMEO)", errno: errno) }
        if setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, size) != 0 { throw .system(call: "setsockopt(SO_SNDTIMEO)", errno: errno) }
    }

    private static func newSocket(family: Int32, timeout: Double) throws(FastCGIClientError) -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        do {
            try setTimeouts(fd, timeout)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return fd
    }

    /// connect(2), mapping EINPROGRESS/EAGAIN after SO_SNDTIMEO to a timeout.
    private static func connect(_ fd: Int32, _ addr: UnsafePointer<sockaddr>, _ len: socklen_t) throws(FastCGIClientError) {
        while Glibc.connect(fd, addr, len) != 0 {
            let e = errno
            if e == EINTR { continue }
            if e == EINPROGRESS || e == EAGAIN { throw .timedOut(call: "connect") }
            throw .system(call: "connect", errno: e)
        }
    }

    private static func connectUnix(path: String, timeout: Double) throws(FastCGIClientError) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let utf8 = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard !utf8.isEmpty, utf8.count < capacity else { throw .invalidAddress(path) }
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in
            for (i, b) in utf8.enumerated() { dst[i] = b }
        }
        let fd = try newSocket(family: AF_UNIX, timeout: timeout)
        let len = socklen_t(MemoryLayout<sockaddr_un>.size)
        var failure: FastCGIClientError?
        withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                do throws(FastCGIClientError) { try connect(fd, p, len) } catch { failure = error }
            }
        }
        if let failure {
            Glibc.close(fd)
            throw failure
        }
        return fd
    }

    private static func resolve(host: String, port: UInt16, flags: Int32) throws(FastCGIClientError) -> UnsafeMutablePointer<addrinfo> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | flags
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let result else { throw .resolve(host: host, code: rc) }
        return result
    }

    private static func connectTCP(host: String, port: UInt16, timeout: Double, bind bindHost: String?) throws(FastCGIClientError) -> Int32 {
        let list = try resolve(host: host, port: port, flags: 0)
        defer { freeaddrinfo(list) }
        var lastError = FastCGIClientError.resolve(host: host, code: EAI_NONAME)
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
            do throws(FastCGIClientError) {
                if let bindHost {
                    let local = try resolve(host: bindHost, port: 0, flags: AI_NUMERICHOST | AI_PASSIVE)
                    defer { freeaddrinfo(local) }
                    if Glibc.bind(fd, local.pointee.ai_addr, local.pointee.ai_addrlen) != 0 {
                        throw FastCGIClientError.system(call: "bind(\(bindHost))", errno: errno)
                    }
                }
                try connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen)
                return fd
            } catch {
                Glibc.close(fd)
                lastError = error
            }
        }
        throw lastError
    }
}
