import FPMServer
import FoundationEssentials
import HTTPTypes

/// A response: status and header fields, then a body written in one piece or streamed.
///
/// The head goes out with the first body bytes (or at the end of `handle`), so a small
/// response leaves the worker in one write; after that the status and headers are fixed
/// (``headSent``). A view over the worker's response state, valid during `handle`.
public struct Response {
    let unchecked: ServerResponse

    /// The worker's response. Debug builds check on every use that `handle` has not returned
    /// (a `Response` kept past it would write into another request): a clear trap instead.
    @inline(__always) var base: ServerResponse {
        #if DEBUG
        assert(unchecked.isLive, "FPM.Response used after its handler returned: a Response is valid only during handle(_:_:)")
        #endif
        return unchecked
    }

    init(_ base: ServerResponse) { self.unchecked = base }

    /// The status; 200 unless set. Changing it after the head was sent has no effect.
    public var status: HTTPResponse.Status {
        get { HTTPResponse.Status(code: base.status) }
        nonmutating set { base.status = newValue.code }
    }

    /// Whether the head (status and headers) has gone out.
    public var headSent: Bool { base.headSent }
    /// Body bytes written so far.
    public var bodyBytesWritten: Int { base.bodyBytesWritten }

    // MARK: headers

    /// The header fields set so far.
    public var headers: HTTPFields {
        var fields = HTTPFields()
        for (name, value) in base.headers {
            if let n = HTTPField.Name(name) { fields.append(HTTPField(name: n, value: value)) }
        }
        return fields
    }

    /// Sets a header, replacing any of the same name. Throws ``HeaderError`` for a value with
    /// CR, LF or NUL, so a value taken from user input cannot split the response head.
    public func setHeader(_ name: HTTPField.Name, _ value: String) throws(HeaderError) {
        try setHeader(name.rawName, value)
    }

    /// Adds a header, keeping others of the same name (`Set-Cookie`); same checks as
    /// ``setHeader(_:_:)-(HTTPField.Name,_)``.
    public func addHeader(_ name: HTTPField.Name, _ value: String) throws(HeaderError) {
        try addHeader(name.rawName, value)
    }

    /// Sets a header by a name given as a string: also refused when the name is not a token.
    public func setHeader(_ name: String, _ value: String) throws(HeaderError) {
        do { try base.setHeader(name, value) } catch { throw HeaderError(error) }
    }

    /// Adds a header by a name given as a string; same checks as `setHeader`.
    public func addHeader(_ name: String, _ value: String) throws(HeaderError) {
        do { try base.addHeader(name, value) } catch { throw HeaderError(error) }
    }

    /// Adds every field of `fields` (their names and values are already valid).
    public func addHeaders(_ fields: HTTPFields) throws(HeaderError) {
        for field in fields { try addHeader(field.name.rawName, field.value) }
    }

    /// The first value set for a header, if any.
    public func header(_ name: HTTPField.Name) -> String? { base.header(name.rawName) }
    /// The first value set for a header named by a string, case-insensitively.
    public func header(_ name: String) -> String? { base.header(name) }

    /// `Content-Type` (`text/html; charset=UTF-8` is sent when none is set). A value with CR,
    /// LF or NUL is not set: a setter cannot throw.
    public var contentType: String? {
        get { base.contentType }
        nonmutating set { base.contentType = newValue }
    }

    /// Adds a `Set-Cookie` header for `name=value` with typed attributes (`Path=/; HttpOnly`
    /// unless told otherwise). Every part is checked (``Cookie/headerValue()``): a name that is
    /// not a token, a value that is not cookie-octets (`;`, `,`, space, `"`, `\`, control
    /// characters, non-ASCII) or a bad attribute throws ``CookieError`` and nothing is added,
    /// so request text can never inject attributes. Values are refused, not encoded.
    public func setCookie(_ name: String, _ value: String, maxAge: Int? = nil, expires: Date? = nil,
                          domain: String? = nil, path: String? = "/", secure: Bool = false, httpOnly: Bool = true,
                          sameSite: Cookie.SameSite? = nil) throws(CookieError) {
        try setCookie(Cookie(name, value, maxAge: maxAge, expires: expires, domain: domain, path: path,
                             secure: secure, httpOnly: httpOnly, sameSite: sameSite))
    }

    /// Adds a `Set-Cookie` header for `cookie`, checked as above.
    public func setCookie(_ cookie: Cookie) throws(CookieError) {
        let value = try cookie.headerValue()
        do {
            try base.addHeader("Set-Cookie", value)
        } catch {
            // Unreachable for a checked value (no CR, LF or NUL); reported rather than trapped.
            throw CookieError(cookie: cookie.name, part: "header", description: error.description)
        }
    }

    /// Asks the client to delete the cookie `name` (`Max-Age=0`, empty value); `domain` and
    /// `path` must match those it was set with.
    public func deleteCookie(_ name: String, domain: String? = nil, path: String? = "/") throws(CookieError) {
        try setCookie(Cookie(name, "", maxAge: 0, domain: domain, path: path, httpOnly: false))
    }

    // MARK: body

    /// Writes text as UTF-8 (the head first, if not sent yet). Streams: each call goes out.
    public func write(_ string: some StringProtocol) throws {
        var s = String(string)
        try s.withUTF8 { try base.write(UnsafeRawBufferPointer($0)) }
    }

    /// Writes bytes (`[UInt8]`, a slice of one, `Data`…).
    public func write(_ bytes: some Collection<UInt8>) throws {
        let done: Void? = try bytes.withContiguousStorageIfAvailable { try base.write(UnsafeRawBufferPointer($0)) }
        if done == nil { try base.write(Array(bytes)) }
    }

    /// Sends `value` as JSON (`Content-Type: application/json`), with `status`, encoded by
    /// `encoder` (``Response/defaultJSONEncoder`` unless given: keys sorted, so the same value
    /// is the same text in every process, whatever a dictionary's order).
    public func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok,
                                   encoder: JSONEncoder = Response.defaultJSONEncoder) throws {
        let data = try encoder.encode(value)
        self.status = status
        contentType = "application/json"
        try write(data)
        try write("\n")
    }

    /// The encoder ``json(_:status:encoder:)`` uses when given none: `.sortedKeys`, so a
    /// response's text is stable (tests can compare it, caches and ETags see the same bytes).
    /// One instance for the process, not one per response. An app that wants other settings
    /// changes them here before `FPMMain.run` (workers inherit them), or passes its own.
    public static let defaultJSONEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// Sends a complete text answer: `status`, `contentType`, `text`.
    public func send(_ text: String, status: HTTPResponse.Status = .ok,
                     contentType: String = "text/plain; charset=utf-8") throws {
        self.status = status
        self.contentType = contentType
        try write(text)
    }

    /// Redirects to `location` (303 See Other by default: the browser follows with a GET;
    /// `.found`, `.movedPermanently`, `.temporaryRedirect`, `.permanentRedirect` as needed).
    /// Refused like any header when `location` holds CR, LF or NUL.
    public func redirect(to location: String, status: HTTPResponse.Status = .seeOther) throws {
        try setHeader("Location", location)
        self.status = status
        contentType = "text/plain; charset=utf-8"
        try write("redirecting to \(location)\n")
    }

    /// Writes a line to FCGI_STDERR (the web server logs it).
    public func log(_ message: String) throws { try base.log(message) }

    /// Sends the head now (also done by the first write, or at the end of the request).
    public func sendHead() throws { try base.sendHead() }

    /// Answers an `HTTPError`: its status, headers and message.
    func answer(_ error: HTTPError) throws {
        base.status = error.status.code
        for field in error.headers { try? base.setHeader(field.name.rawName, field.value) }
        contentType = "text/plain; charset=utf-8"
        try write(error.message)
        try write("\n")
    }
}

/// A response header refused by `Response.setHeader`/`addHeader`: `name` is the header's,
/// `description` says why (not a token, or CR/LF/NUL in the value).
public struct HeaderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The refused header's name.
    public let name: String
    /// Why it was refused.
    public let description: String

    init(_ error: InvalidHeader) {
        name = error.name
        description = error.description
    }
}
