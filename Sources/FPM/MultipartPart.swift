import HTTPTypes

/// One part of a `multipart/form-data` body: its form field name, the filename the client
/// gave (for a file), its content type and header fields, and its body, read in chunks with
/// ``read(into:)`` or whole with ``bytes(limit:)`` and ``text(limit:)``.
///
/// Valid until the next ``MultipartReader/nextPart()``: reading it after that throws.
public struct MultipartPart {
    let reader: MultipartReader
    /// Which part of the body this is, from 1.
    public let number: Int
    /// The form field's name (`name` of `Content-Disposition`; "" when the part has none).
    public let name: String
    /// The filename as the client sent it (`filename*` when it decodes, else `filename`); nil
    /// for a part that is not a file. Untrusted: it may hold `../`, a full Windows path, control
    /// characters or be very long. Use ``safeFilename`` for anything touching a file system.
    public let filename: String?
    /// The part's `Content-Type`; nil when it sent none (RFC 7578: then `text/plain`).
    public let contentType: String?
    /// Every header field of the part, in order.
    public let headers: HTTPFields

    init(reader: MultipartReader, number: Int, head: MultipartHead) {
        self.reader = reader
        self.number = number
        self.name = head.name
        self.filename = head.filename
        self.contentType = head.contentType
        self.headers = head.fields
    }

    /// ``filename`` made safe to use as one file name: its last path component (after any `/`
    /// or `\`), with control and format characters (NUL, CR, LF, bidi overrides) and leading
    /// dots and spaces removed, at most 255 UTF-8 bytes (the extension kept when cut); `file`
    /// when nothing is left. Still the client's choice: do not trust it to be unique.
    public var safeFilename: String? { filename.map(Self.sanitize) }

    /// Reads the part's next bytes into `buffer`, up to `buffer.count`, and returns how many
    /// (`buffer[0..<n]`); 0 at the part's end. Throws an ``HTTPError`` 413 past
    /// ``MultipartLimits/maxPartSize`` or ``MultipartLimits/maxTotalSize``, a 400 when the
    /// body ends before its final boundary, and what ``Request/read(into:)`` throws.
    public func read(into buffer: inout [UInt8]) throws -> Int {
        guard reader.partCount == number else { throw MultipartReaderError.partNoLongerCurrent(number) }
        return try buffer.withUnsafeMutableBytes { try reader.advance(into: $0) }
    }

    /// The part's whole body. One larger than `limit` is refused with an ``HTTPError`` 413.
    public func bytes(limit: Int = Request.defaultBodyLimit) throws -> [UInt8] {
        guard reader.partCount == number else { throw MultipartReaderError.partNoLongerCurrent(number) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while case let n = try read(into: &chunk), n > 0 {
            guard out.count + n <= limit else {
                throw HTTPError(.contentTooLarge, "multipart part '\(name)' larger than \(limit) bytes")
            }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// The part's body as UTF-8 text (invalid bytes replaced), with the same limit as
    /// ``bytes(limit:)``.
    public func text(limit: Int = Request.defaultBodyLimit) throws -> String {
        String(decoding: try bytes(limit: limit), as: UTF8.self)
    }

    static func sanitize(_ raw: String) -> String {
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        var scalars = String.UnicodeScalarView()
        for scalar in last.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned, .privateUse:
                continue
            default:
                scalars.append(scalar)
            }
        }
        var name = Substring(String(scalars))
        while let c = name.first, c == "." || c == " " { name = name.dropFirst() }
        while let c = name.last, c == " " { name = name.dropLast() }
        guard !name.isEmpty else { return "file" }
        let maxBytes = 255
        guard name.utf8.count > maxBytes else { return String(name) }
        // Keep a short extension; cut the stem at a character boundary.
        var ext = Substring("")
        if let dot = name.lastIndex(of: "."), name.utf8.distance(from: dot, to: name.endIndex) <= 16 { ext = name[dot...] }
        var stem = name[..<(ext.isEmpty ? name.endIndex : ext.startIndex)]
        while stem.utf8.count + ext.utf8.count > maxBytes { stem = stem.dropLast() }
        return String(stem) + String(ext)
    }
}
