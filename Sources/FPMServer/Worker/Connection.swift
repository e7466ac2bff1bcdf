import FPMSystem
import CFPMShims
import FastCGI
import Glibc
import SystemPackage

/// One accepted FastCGI connection in a worker: its socket, the incremental parser, and the
/// framed output not yet sent. Recycled across connections so a worker does not allocate
/// buffers per connection.
final class Connection: ResponseSink, RequestBodySource {
    var fd: Int32 = -1
    var peer = PeerAddress.unix
    var parser: RequestParser
    var writer = ResponseWriter(requestID: 1)
    var readBuffer: [UInt8]
    /// Whether the web server asked to keep the connection (FCGI_KEEP_CONN).
    var keepConnection = false
    var requestID: UInt16 = 1
    var role: Role = .responder
    /// Stdin bytes already parsed but not yet handed to the handler.
    var pendingBody: ArraySlice<UInt8> = []
    var bodyEnded = false
    var aborted = false
    var params: FastCGIParams?

    /// Output bigger than this is flushed while the handler writes (streamed responses).
    static let flushThreshold = 64 * 1024

    init(management: ManagementValues, limits: ParserLimits) {
        parser = RequestParser(limits: limits, management: management)
        readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    }

    func attach(fd: Int32, peer: PeerAddress) {
        self.fd = fd
        self.peer = peer
        parser.reset()
        keepConnection = false
        resetRequest()
    }

    func resetRequest() {
        pendingBody = []
        bodyEnded = false
        aborted = false
        params = nil
    }

    func close() {
        if fd >= 0 { FileIO.close(fd) }
        fd = -1
    }

    enum ReadResult { case data, eof, wouldBlock }

    /// Reads what the socket has into the parser. `wait` false: do not block.
    func fill(wait: Bool) throws -> ReadResult {
        let sock = fd
        let n = readBuffer.withUnsafeMutableBytes { buf -> Int in
            while true {
                let r = recv(sock, buf.baseAddress, buf.count, wait ? 0 : Int32(MSG_DONTWAIT))
                if r == -1 && errno == EINTR { continue }
                return r
            }
        }
        if n > 0 {
            readBuffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            return .data
        }
        if n == 0 { return .eof }
        if errno == EAGAIN { return .wouldBlock }
        if errno == ECONNRESET { return .eof }
        throw SystemError("recv", .init(rawValue: errno))
    }

    /// Waits up to `timeoutMillis` for the socket to become readable.
    func waitReadable(timeoutMillis: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let r = Glibc.poll(&p, 1, timeoutMillis)
            if r == -1 && errno == EINTR { continue }
            return r > 0
        }
    }

    // MARK: output

    func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try FileIO.sendAll(fd, $0) }
    }

    func flush() throws {
        guard writer.count > 0 else { return }
        try writer.withBytes { try FileIO.sendAll(fd, $0) }
        writer.removeAll()
    }

    func writeOutput(_ bytes: UnsafeRawBufferPointer) throws {
        writer.stdout(bytes)
        if writer.count >= Connection.flushThreshold { try flush() }
    }

    func writeError(_ bytes: UnsafeRawBufferPointer) throws {
        writer.stderr(bytes)
        if writer.count >= Connection.flushThreshold { try flush() }
    }

    // MARK: body

    func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while pendingBody.isEmpty {
            if bodyEnded || aborted { return 0 }
            if try !pump() { return 0 }
        }
        let n = min(buffer.count, pendingBody.count)
        pendingBody.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n)
        }
        pendingBody = pendingBody.dropFirst(n)
        return n
    }

    /// Processes parser events until something for the body arrives; reads the socket when the
    /// parser needs bytes. Returns false at EOF.
    func pump() throws -> Bool {
        while true {
            if let event = try parser.nextEvent() {
                switch event {
                case .stdin(let chunk):
                    pendingBody = chunk
                    return true
                case .stdinEnd:
                    bodyEnded = true
                    return true
                case .reply(let bytes):
                    try send(bytes)
                case .abort:
                    aborted = true
                    return true
                case .data, .dataEnd:
                    continue
                case .begin, .params:
                    throw FastCGIError.unexpectedRecordType(type: RecordType.beginRequest.rawValue, requestID: requestID)
                }
            } else {
                switch try fill(wait: true) {
                case .data: continue
                case .eof, .wouldBlock:
                    aborted = true
                    return false
                }
            }
        }
    }

    /// Reads and drops the rest of the body, so a kept connection stays in step.
    func drainBody() throws {
        while !bodyEnded && !aborted {
            pendingBody = []
            if try !pump() { break }
        }
        pendingBody = []
    }
}
