import FPMSystem
import FastCGI

/// Where a response's bytes go: the worker's connection, or a buffer in tests.
package protocol ResponseSink: AnyObject {
    /// ServerResponse bytes (CGI head, then body) for FCGI_STDOUT.
    func writeOutput(_ bytes: UnsafeRawBufferPointer) throws
    /// Diagnostics for FCGI_STDERR (nginx logs them as "FastCGI sent in stderr").
    func writeError(_ bytes: UnsafeRawBufferPointer) throws
    /// Output that `compose` appends in place (the CGI head): into the sink's own framed
    /// buffer where it has one, so the head costs no buffer or string of its own.
    func writeOutput(composing compose: (inout [UInt8]) -> Void) throws
}

extension ResponseSink {
    package func writeOutput(composing compose: (inout [UInt8]) -> Void) throws {
        var bytes: [UInt8] = []
        compose(&bytes)
        try bytes.withUnsafeBytes { try writeOutput($0) }
    }
}

/// A CGI-style response: status and headers, then a body written in one piece or streamed.
/// The head goes out with the first body bytes (or at the end), so a small response leaves the
/// worker in one write. Its state is `@exclusivity(unchecked)`, as `Worker`'s is (one thread).
package final class ServerResponse {
    @exclusivity(unchecked) package var status: Int = 200
    @exclusivity(unchecked) package private(set) var headers: [(name: String, value: String)] = []
    @exclusivity(unchecked) package private(set) var headSent = false
    @exclusivity(unchecked) package private(set) var bodyBytesWritten = 0
    /// When false, body bytes are counted but dropped (HEAD requests).
    @exclusivity(unchecked) package var sendsBody = true
    /// Sends `Status: 200 OK` too, which the head otherwise leaves out: set by `cgi` when a
    /// script wrote that line itself, so its head passes through as written.
    @exclusivity(unchecked) package var sendsStatusLineFor200 = false
    #if DEBUG
    /// Debug builds only: false once `finish` ran, so the app's `Response` view can trap when a
    /// handler let it escape (release builds keep no flag and check nothing).
    @exclusivity(unchecked) package private(set) var isLive = true
    #endif
    let sink: ResponseSink

    package init(sink: ResponseSink) {
        self.sink = sink
        // Room for the usual few headers at once, not a regrowth at the second one.
        headers.reserveCapacity(4)
    }

    /// Sets a header, replacing any of the same name (case-insensitively). Throws for a name
    /// that is not a token or a value with CR, LF or NUL (see `InvalidHeader`).
    package func setHeader(_ name: String, _ value: String) throws(InvalidHeader) {
        try InvalidHeader.check(name, value)
        // Usually there is none to replace: looked for first, the array is not rewritten.
        if headers.contains(where: { $0.name.caseInsensitiveEquals(name) }) {
            headers.removeAll { $0.name.caseInsensitiveEquals(name) }
        }
        headers.append((name, value))
    }

    /// Adds a header, keeping others of the same name (Set-Cookie); same checks as `setHeader`.
    package func addHeader(_ name: String, _ value: String) throws(InvalidHeader) {
        try InvalidHeader.check(name, value)
        headers.append((name, value))
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    package var contentType: String? {
        get { header("Content-Type") }
        set {
            headers.removeAll { $0.name.caseInsensitiveEquals("Content-Type") }
            // A setter cannot throw: a value that would split the head is not set.
            if let newValue, (try? InvalidHeader.check("Content-Type", newValue)) != nil { headers.append(("Content-Type", newValue)) }
        }
    }

    /// Writes body bytes (the head first, if not sent yet).
    package func write(_ bytes: UnsafeRawBufferPointer) throws {
        if !headSent { try sendHead() }
        bodyBytesWritten += bytes.count
        if sendsBody && bytes.count > 0 { try sink.writeOutput(bytes) }
    }

    package func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    package func write(_ string: String) throws {
        var s = string
        try s.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes a line to FCGI_STDERR.
    package func log(_ message: String) throws {
        var s = message
        if !s.hasSuffix("\n") { s += "\n" }
        try s.withUTF8 { try sink.writeError(UnsafeRawBufferPointer($0)) }
    }

    /// Sends the head now (also done by the first write, or at the end of the request). It is
    /// composed as bytes straight into the sink's framed output: the hottest few lines of a
    /// small response, so no string is built for it.
    ///
    /// A 200 goes without a `Status:` line, as php-cgi's does: every web server reads a CGI
    /// head without one as 200, and Caddy 2.6 would pass the line on to clients as a header.
    /// A 200 with a `Location` keeps it (without, the web server would answer 302).
    package func sendHead() throws {
        guard !headSent else { return }
        headSent = true
        let status = self.status, headers = self.headers
        let reason = ServerResponse.reason(status)
        let defaultType: StaticString = "Content-Type: text/html; charset=UTF-8\r\n"
        // Its exact length first, so the bytes are put in place in one resize.
        var length = "\r\n".utf8.count
        var hasType = false, hasLocation = false
        for (name, value) in headers {
            length += name.utf8.count + value.utf8.count + 4
            if !hasType && name.caseInsensitiveEquals("Content-Type") { hasType = true }
            if status == 200 && !hasLocation && name.caseInsensitiveEquals("Location") { hasLocation = true }
        }
        if !hasType { length += defaultType.utf8CodeUnitCount }
        let statusLine = status != 200 || hasLocation || sendsStatusLineFor200
        if statusLine {
            length += "Status: 000 \r\n".utf8.count + reason.utf8.count
            if !(100...999).contains(status) { length += String(status).utf8.count - 3 }
        }
        try sink.writeOutput { out in
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: length))
            out.withUnsafeMutableBytes { buffer in
                var head = HeadBytes(buffer, at: start)
                if statusLine {
                    head.put("Status: ")
                    if (100...999).contains(status) {
                        head.put(UInt8(ascii: "0") + UInt8(status / 100))
                        head.put(UInt8(ascii: "0") + UInt8(status / 10 % 10))
                        head.put(UInt8(ascii: "0") + UInt8(status % 10))
                    } else {
                        head.put(String(status))
                    }
                    head.put(UInt8(ascii: " "))
                    head.put(reason)
                    head.put("\r\n")
                }
                for (name, value) in headers {
                    head.put(name)
                    head.put(": ")
                    head.put(value)
                    head.put("\r\n")
                }
                if !hasType { head.put(defaultType) }
                head.put("\r\n")
                assert(head.offset == buffer.count, "the head's length was counted right")
            }
        }
    }

    /// Called by the worker once the handler returned.
    package func finish() throws {
        #if DEBUG
        isLive = false
        #endif
        if !headSent { try sendHead() }
    }

    /// The standard reason phrase for a status code.
    package static func reason(_ code: Int) -> String {
        switch code {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 206: return "Partial Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 303: return "See Other"
        case 304: return "Not Modified"
        case 307: return "Temporary Redirect"
        case 308: return "Permanent Redirect"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 410: return "Gone"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status"
        }
    }
}

/// Collects a response in memory: for tests of handlers, without a socket.
package final class BufferResponseSink: ResponseSink {
    package private(set) var output: [UInt8] = []
    package private(set) var errors: [UInt8] = []
    package init() {}
    package func writeOutput(_ bytes: UnsafeRawBufferPointer) throws { output.append(contentsOf: bytes) }
    package func writeError(_ bytes: UnsafeRawBufferPointer) throws { errors.append(contentsOf: bytes) }
}

/// Puts a head's pieces into bytes already sized for them (a memcpy each, no growth checks).
struct HeadBytes {
    let buffer: UnsafeMutableRawBufferPointer
    var offset: Int

    init(_ buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        self.buffer = buffer
        self.offset = offset
    }

    @inline(__always) mutating func put(_ byte: UInt8) {
        buffer[offset] = byte
        offset += 1
    }

    @inline(__always) mutating func put(_ bytes: UnsafeRawBufferPointer) {
        precondition(offset + bytes.count <= buffer.count, "head longer than counted")
        if let source = bytes.baseAddress, bytes.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: source, byteCount: bytes.count) }
        offset += bytes.count
    }

    @inline(__always) mutating func put(_ string: StaticString) {
        put(UnsafeRawBufferPointer(start: string.utf8Start, count: string.utf8CodeUnitCount))
    }

    @inline(__always) mutating func put(_ string: String) {
        // withUTF8 on a copy: a native or small string's bytes in place (a bridged one is made
        // native first), cheaper than the view's generic contiguous-storage call.
        var string = string
        string.withUTF8 { put(UnsafeRawBufferPointer($0)) }
    }
}
