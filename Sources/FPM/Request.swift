import FPMServer
import FastCGI

/// One FastCGI request as a handler sees it: the CGI environment the web server sent, and the
/// body as a stream. A view over the worker's request state, valid during `handle`.
public struct Request {
    let base: ServerRequest

    init(_ base: ServerRequest) { self.base = base }

    /// Every param, in the order the web server sent them.
    public var params: FastCGIParams { base.params }
    public var role: Role { base.role }
    public var bodyBytesRead: Int { base.bodyBytesRead }

    public subscript(param name: String) -> String? { base.params[name] }

    public var method: String { base.method }
    /// REQUEST_URI as the web server sent it (path and query).
    public var uri: String { base.uri }
    public var scriptName: String { base.scriptName }
    public var scriptFilename: String? { base.scriptFilename }
    public var documentRoot: String? { base.documentRoot }
    public var pathInfo: String? { base.pathInfo }
    public var queryString: String { base.queryString }
    public var contentType: String? { base.contentType }
    public var contentLength: Int? { base.contentLength }
    public var remoteAddress: String? { base.remoteAddress }

    /// An HTTP request header by its HTTP name (`Accept-Language` → HTTP_ACCEPT_LANGUAGE).
    public func header(_ name: String) -> String? { base.header(name) }

    /// The decoded query string as name/value pairs (`+` is a space, %XX decoded).
    public var query: [(String, String)] { base.query }

    /// Reads body bytes into `buffer`; 0 at the end of the body.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try base.read(into: buffer) }

    /// The body was larger than the limit the app gave.
    public struct BodyTooLarge: Error, CustomStringConvertible {
        public var limit: Int
        public var description: String { "request body larger than \(limit) bytes" }
    }

    /// The whole body, refusing more than `limit` bytes.
    public func readBody(limit: Int = 16 << 20) throws -> [UInt8] {
        do {
            return try base.readBody(limit: limit)
        } catch let error as ServerRequest.BodyTooLarge {
            throw BodyTooLarge(limit: error.limit)
        }
    }

    /// A url-encoded form body (application/x-www-form-urlencoded) as name/value pairs.
    public func formFields(limit: Int = 1 << 20) throws -> [(String, String)] {
        do {
            return try base.formFields(limit: limit)
        } catch let error as ServerRequest.BodyTooLarge {
            throw BodyTooLarge(limit: error.limit)
        }
    }
}
