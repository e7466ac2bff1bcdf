import FPMSystem
import FastCGI

/// Supplies request body bytes as the handler reads them (the worker's connection).
package protocol RequestBodySource: AnyObject {
    /// Copies up to `buffer.count` body bytes; 0 means the body has ended. Throws
    /// `RequestBodyError` when the body cannot be read whole (short, aborted, bad length).
    func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// As `readBody`, without waiting: nil when no byte is here yet (wait for `bodyDescriptor`
    /// to be readable, then call again).
    func readBodyAvailable(into buffer: UnsafeMutableRawBufferPointer) throws -> Int?
    /// The descriptor whose readability brings more body bytes; nil when `readBodyAvailable`
    /// never answers nil.
    var bodyDescriptor: Int32? { get }
}

extension RequestBodySource {
    package func readBodyAvailable(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        try readBody(into: buffer)
    }

    package var bodyDescriptor: Int32? { nil }
}

/// One FastCGI request as a handler sees it: the CGI environment nginx sent, and the body as a
/// stream.
package final class ServerRequest {
    /// Every param, in the order the web server sent them.
    package let params: FastCGIParams
    package let role: Role
    let source: RequestBodySource?
    @exclusivity(unchecked) package private(set) var bodyBytesRead = 0
    #if DEBUG
    /// Debug builds only: false once the request was answered, so the app's `Request` view can
    /// trap when a handler let it escape (release builds keep no flag and check nothing).
    @exclusivity(unchecked) package private(set) var isLive = true
    #endif

    /// Marks the request answered (after the handler returned): see `isLive`.
    @inline(__always) package func end() {
        #if DEBUG
        isLive = false
        #endif
    }

    /// The request's id and trace context once asked for (`identity`, RequestIdentity.swift).
    @exclusivity(unchecked) var resolvedIdentity: RequestIdentity?

    package init(params: FastCGIParams, role: Role = .responder, body: RequestBodySource?) {
        self.params = params
        self.role = role
        self.source = body
    }

    package subscript(param name: String) -> String? { params[name] }

    package var method: String { params["REQUEST_METHOD"] ?? "GET" }
    /// REQUEST_URI as nginx sent it (path and query).
    package var uri: String { params["REQUEST_URI"] ?? scriptName }
    package var scriptName: String { params["SCRIPT_NAME"] ?? "" }
    package var scriptFilename: String? { params["SCRIPT_FILENAME"] }
    package var documentRoot: String? { params["DOCUMENT_ROOT"] }
    package var pathInfo: String? { params["PATH_INFO"] }
    package var queryString: String { params["QUERY_STRING"] ?? "" }
    package var contentType: String? { params["CONTENT_TYPE"] }
    /// CONTENT_LENGTH when it is a byte count (nil when absent, empty or invalid).
    package var contentLength: Int? {
        if case .exactly(let n) = params.contentLength { return n }
        return nil
    }
    package var remoteAddress: String? { params["REMOTE_ADDR"] }

    /// An HTTP request header by its HTTP name (`Accept-Language` → HTTP_ACCEPT_LANGUAGE).
    package func header(_ name: String) -> String? {
        if name.caseInsensitiveEquals("Content-Type") { return contentType }
        if name.caseInsensitiveEquals("Content-Length") { return params["CONTENT_LENGTH"] }
        return params[CGIHeaderName.param(forHeader: name)]
    }

    /// The decoded query string as name/value pairs (`+` is a space, %XX decoded).
    package var query: [(String, String)] { FormDecoding.decode(queryString) }

    /// Reads body bytes into `buffer`; 0 at the end of the body.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let source, buffer.count > 0 else { return 0 }
        let n = try source.readBody(into: buffer)
        bodyBytesRead += n
        return n
    }

    /// As `read`, without waiting for the connection: nil when no body byte is here yet (poll
    /// `bodyDescriptor` for readable). For a handler that moves the body while doing other I/O.
    package func readAvailable(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        guard let source, buffer.count > 0 else { return 0 }
        let n = try source.readBodyAvailable(into: buffer)
        if let n { bodyBytesRead += n }
        return n
    }

    /// Where more body bytes come from (see `readAvailable`).
    package var bodyDescriptor: Int32? { source?.bodyDescriptor }

    package struct BodyTooLarge: Error, CustomStringConvertible {
        package var limit: Int
        package var description: String { "request body larger than \(limit) bytes" }
    }

    /// The whole body, refusing more than `limit` bytes.
    package func readBody(limit: Int = 16 << 20) throws -> [UInt8] {
        var out: [UInt8] = []
        if let n = contentLength, n <= limit { out.reserveCapacity(n) }
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { break }
            if out.count + n > limit { throw BodyTooLarge(limit: limit) }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}

/// application/x-www-form-urlencoded decoding.
package enum FormDecoding {
    package static func decode(_ s: String) -> [(String, String)] {
        guard !s.isEmpty else { return [] }
        return s.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (unescape(kv[0]), kv.count > 1 ? unescape(kv[1]) : "")
        }
    }

    package static func unescape(_ s: Substring) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = Array(s.utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "+") { out.append(0x20) }
            else if c == UInt8(ascii: "%"), it.count >= 2, let h = hex(it[it.startIndex]), let l = hex(it[it.startIndex + 1]) {
                out.append(h << 4 | l)
                it = it.dropFirst(2)
            } else { out.append(c) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = self.utf8, b = other.utf8
        guard a.count == b.count else { return false }
        // Header names are short native strings: compare their contiguous bytes (no iterator);
        // the indexed walk is for the rare string without contiguous storage.
        if let equal = a.withContiguousStorageIfAvailable({ x in
            b.withContiguousStorageIfAvailable { y in
                for i in 0..<x.count where x[i] != y[i] && Self.lowered(x[i]) != Self.lowered(y[i]) { return false }
                return true
            }
        }), let equal { return equal }
        var i = a.startIndex, j = b.startIndex
        while i != a.endIndex {
            if a[i] != b[j] && Self.lowered(a[i]) != Self.lowered(b[j]) { return false }
            a.formIndex(after: &i)
            b.formIndex(after: &j)
        }
        return true
    }

    @inline(__always) private static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= 65 && byte <= 90 ? byte + 32 : byte
    }
}
