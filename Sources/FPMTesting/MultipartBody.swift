import FPM
import HTTPTypes

/// A `multipart/form-data` body built for a test, as a browser would send it:
///
/// ```swift
/// let response = client.post("/upload", multipart: MultipartBody([
///     .field("title", "holiday"),
///     .file("photo", filename: "beach.jpg", contentType: "image/jpeg", bytes),
/// ]))
/// ```
public struct MultipartBody: Sendable {
    /// One part: its `Content-Disposition` name and filename, `Content-Type`, any other header
    /// lines, and body.
    public struct Part: Sendable {
        public var name: String
        public var filename: String?
        public var contentType: String?
        /// Extra header lines, written as given after `Content-Disposition` and `Content-Type`.
        public var headers: [(String, String)]
        public var body: [UInt8]

        public init(name: String, filename: String? = nil, contentType: String? = nil,
                    headers: [(String, String)] = [], body: [UInt8]) {
            self.name = name
            self.filename = filename
            self.contentType = contentType
            self.headers = headers
            self.body = body
        }
    }

    /// The boundary; the default does not occur in the parts a test usually builds.
    public var boundary: String
    public var parts: [Part]

    public init(_ parts: [Part], boundary: String = "----FPMTestingBoundary7MA4YWxkTrZu0gW") {
        self.parts = parts
        self.boundary = boundary
    }

    /// `multipart/form-data; boundary=…`.
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The encoded body: each part after `--boundary` CRLF, its header lines, an empty line;
    /// the final `--boundary--` CRLF.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quote(part.name))\""
            if let filename = part.filename { head += "; filename=\"\(Self.quote(filename))\"" }
            head += "\r\n"
            if let type = part.contentType { head += "Content-Type: \(type)\r\n" }
            for (name, value) in part.headers { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            out += Array(head.utf8)
            out += part.body
            out += Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// A quoted-string's content: `"` and `\` escaped with a backslash, CR and LF
    /// percent-encoded as browsers do (they cannot appear in a header line).
    static func quote(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\r": out += "%0D"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

extension MultipartBody.Part {
    /// A form field (no filename, no content type).
    public static func field(_ name: String, _ value: String) -> MultipartBody.Part {
        MultipartBody.Part(name: name, body: Array(value.utf8))
    }

    /// A file field.
    public static func file(_ name: String, filename: String, contentType: String = "application/octet-stream",
                            _ body: [UInt8]) -> MultipartBody.Part {
        MultipartBody.Part(name: name, filename: filename, contentType: contentType, body: body)
    }
}

extension TestClient {
    /// A POST of a `multipart/form-data` body.
    public func post(_ uri: String, multipart: MultipartBody, headers: HTTPFields = [:]) -> TestResponse {
        var fields = headers
        fields[.contentType] = multipart.contentType
        return execute(.post, uri, headers: fields, body: multipart.bytes)
    }
}
