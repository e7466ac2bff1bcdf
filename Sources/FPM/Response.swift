import FPMServer

/// A CGI-style response: status and headers, then a body written in one piece or streamed.
/// The head goes out with the first body bytes (or at the end), so a small response leaves the
/// worker in one write. A view over the worker's response state, valid during `handle`.
public struct Response {
    let base: ServerResponse

    init(_ base: ServerResponse) { self.base = base }

    public var status: Int {
        get { base.status }
        nonmutating set { base.status = newValue }
    }
    public var headers: [(name: String, value: String)] { base.headers }
    public var headSent: Bool { base.headSent }
    public var bodyBytesWritten: Int { base.bodyBytesWritten }

    /// Sets a header, replacing any of the same name (case-insensitively). Throws
    /// `HeaderError` for a name that is not a token or a value with CR, LF or NUL, so a value
    /// taken from user input cannot split the response head.
    public func setHeader(_ name: String, _ value: String) throws(HeaderError) {
        do { try base.setHeader(name, value) } catch { throw HeaderError(error) }
    }
    /// Adds a header, keeping others of the same name (Set-Cookie); same checks as `setHeader`.
    public func addHeader(_ name: String, _ value: String) throws(HeaderError) {
        do { try base.addHeader(name, value) } catch { throw HeaderError(error) }
    }
    public func header(_ name: String) -> String? { base.header(name) }

    public var contentType: String? {
        get { base.contentType }
        nonmutating set { base.contentType = newValue }
    }

    /// Writes body bytes (the head first, if not sent yet).
    public func write(_ bytes: UnsafeRawBufferPointer) throws { try base.write(bytes) }
    public func write(_ bytes: [UInt8]) throws { try base.write(bytes) }
    public func write(_ string: String) throws { try base.write(string) }

    /// Writes a line to FCGI_STDERR (the web server logs it).
    public func log(_ message: String) throws { try base.log(message) }

    /// Sends the head now (also done by the first write, or at the end of the request).
    public func sendHead() throws { try base.sendHead() }

    /// The standard reason phrase for a status code.
    public static func reason(_ code: Int) -> String { ServerResponse.reason(code) }
}

/// A response header refused by `Response.setHeader`/`addHeader`: `name` is the header's,
/// `description` says why (not a token, or CR/LF/NUL in the value).
public struct HeaderError: Error, Equatable, Sendable, CustomStringConvertible {
    public let name: String
    public let description: String

    init(_ error: InvalidHeader) {
        name = error.name
        description = error.description
    }
}
