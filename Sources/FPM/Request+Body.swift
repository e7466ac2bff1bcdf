import FPMServer
import FoundationEssentials
import HTTPTypes

extension Request {
    /// The default limit of ``body(limit:)`` and ``decode(_:limit:decoder:)``: 1 MiB.
    public static let defaultBodyLimit = 1 << 20

    /// How many body bytes the handler has read so far.
    public var bodyBytesRead: Int { base.bodyBytesRead }

    /// Reads the next body bytes into `buffer`, up to `buffer.count`, and returns how many
    /// (`buffer[0..<n]`); 0 at the end of the body, which is exactly `CONTENT_LENGTH` bytes
    /// (bytes past it are never returned).
    ///
    /// Throws when the body cannot be read whole: it ended short of `CONTENT_LENGTH`, the web
    /// server aborted the request, or the connection closed. Let the error through: the server
    /// answers 400 for a short body and nothing after an abort, and does so even when the
    /// handler catches the error and answers itself (a partial body is never taken as whole).
    /// The other body readers (``body(limit:)``, ``text(limit:)``, ``form(limit:)``,
    /// ``decode(_:limit:decoder:)``) throw the same way. For streaming a large body in chunks:
    ///
    /// ```swift
    /// var chunk = [UInt8](repeating: 0, count: 65536)
    /// while case let n = try request.read(into: &chunk), n > 0 {
    ///     try response.write(chunk[0..<n])
    /// }
    /// ```
    public func read(into buffer: inout [UInt8]) throws -> Int {
        try buffer.withUnsafeMutableBytes { try base.read(into: $0) }
    }

    /// The whole body as bytes. A body larger than `limit` is refused with an ``HTTPError``
    /// 413 (Content Too Large), which the server answers if the app lets it through.
    public func body(limit: Int = Request.defaultBodyLimit) throws -> [UInt8] {
        do {
            return try base.readBody(limit: limit)
        } catch let error as ServerRequest.BodyTooLarge {
            throw HTTPError(.contentTooLarge, "request body larger than \(error.limit) bytes")
        }
    }

    /// The body as UTF-8 text (invalid bytes replaced), with the same limit as ``body(limit:)``.
    public func text(limit: Int = Request.defaultBodyLimit) throws -> String {
        String(decoding: try body(limit: limit), as: UTF8.self)
    }

    /// A URL-encoded form body (`application/x-www-form-urlencoded`): `form()["name"]`.
    public func form(limit: Int = Request.defaultBodyLimit) throws -> URLEncodedParameters {
        URLEncodedParameters(try text(limit: limit))
    }

    /// The body decoded from JSON. A body that is not valid JSON for `T` is refused with an
    /// ``HTTPError`` 400 whose message says what is wrong (`invalid JSON body: the key 'name'
    /// is missing`), which the server answers if the app lets it through.
    public func decode<T: Decodable>(_ type: T.Type = T.self, limit: Int = Request.defaultBodyLimit,
                                     decoder: JSONDecoder = JSONDecoder()) throws -> T {
        let bytes = try body(limit: limit)
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw HTTPError(.badRequest, "invalid JSON body: \(JSONErrors.describe(error))")
        } catch {
            throw HTTPError(.badRequest, "invalid JSON body: \(error)")
        }
    }
}

/// Readable text for a decoding error, for the 400 a client gets.
enum JSONErrors {
    static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            return path.isEmpty ? "" : " at '\(path.joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "the key '\(key.stringValue)' is missing\(at(context))"
        case .typeMismatch(let type, let context):
            return "expected \(type)\(at(context)): \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "expected \(type)\(at(context)), found null"
        case .dataCorrupted(let context):
            var text = context.debugDescription
            if let underlying = context.underlyingError { text += " (\(underlying))" }
            return text + at(context)
        @unknown default:
            return "\(error)"
        }
    }
}
