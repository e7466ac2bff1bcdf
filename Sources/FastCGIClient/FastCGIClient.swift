// A small blocking FastCGI client for fpmctl, fcgibench and the tests: one connection,
// requests in sequence, timeouts from the socket options. The codec is FastCGI's; the socket
// calls are FPMSystem's (ClientSocket, FileIO, SocketIO).

import FPMSystem
import FastCGI

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
        case .resolve(let host, let code): return "getaddrinfo(\(host)): \(ClientSocket.resolveMessage(code))"
        case .system(let call, let e): return "\(call): \(SystemError.message(for: e)) (errno \(e))"
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
        do throws(ClientSocket.ConnectError) {
            switch address.kind {
            case .unix(let path):
                fd = try ClientSocket.connect(unixPath: path, timeout: timeout)
            case .tcp(_, let port):
                fd = try ClientSocket.connect(host: address.connectHost!, port: port, timeout: timeout, bindAddress: bindAddress)
            }
        } catch {
            switch error {
            case .invalidPath:
                guard case .unix(let path) = address.kind else { throw .invalidAddress(address.description) }
                throw .invalidAddress(path)
            case .resolve(let host, let code): throw .resolve(host: host, code: code)
            case .system(let failure): throw Self.clientError(failure)
            }
        }
    }

    /// Parses `address` and connects.
    public convenience init(connectingTo address: String, timeout: Double = 10, bindAddress: String? = nil) throws(FastCGIClientError) {
        guard let a = FastCGIAddress(address) else { throw .invalidAddress(address) }
        try self.init(connectingTo: a, timeout: timeout, bindAddress: bindAddress)
    }

    deinit { if fd >= 0 { FileIO.close(fd) } }

    /// The connected descriptor (for tests that need to poll it); -1 once closed.
    public var fileDescriptor: Int32 { fd }

    /// Closes the connection. Idempotent.
    public func close() {
        if fd >= 0 { FileIO.close(fd) }
        fd = -1
    }

    /// Half-closes: the application reads EOF after what was sent.
    public func shutdownWrite() throws(FastCGIClientError) {
        guard fd >= 0 else { throw .closed }
        do throws(SystemError) { try ClientSocket.shutdownWrite(fd) } catch { throw Self.clientError(error) }
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
        let fd = self.fd
        let failure = bytes.withUnsafeBytes { raw -> SystemError? in
            do throws(SystemError) { try FileIO.sendAll(fd, raw); return nil } catch { return error }
        }
        if let failure { throw Self.clientError(failure) }
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
        let fd = self.fd
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let received = chunk.withUnsafeMutableBytes { buffer -> Result<SocketIO.Received, SystemError> in
            do throws(SystemError) { return .success(try SocketIO.receive(fd, into: buffer, wait: true)) } catch { return .failure(error) }
        }
        switch received {
        case .success(.bytes(let n)):
            inbox.append(contentsOf: chunk[0..<n])
            return n
        case .success(.endOfStream): return 0
        // A blocking receive that would block ran out of SO_RCVTIMEO.
        case .success(.wouldBlock): throw .timedOut(call: "recv")
        case .failure(let error): throw Self.clientError(error)
        }
    }

    /// A failed call as the client reports it: EAGAIN (and EINPROGRESS from connect) after
    /// SO_SNDTIMEO/SO_RCVTIMEO is a timeout.
    private static func clientError(_ error: SystemError) -> FastCGIClientError {
        error.isSocketTimeout ? .timedOut(call: error.call) : .system(call: error.call, errno: error.code)
    }
}
