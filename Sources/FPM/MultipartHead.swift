import HTTPTypes

/// A part's header section, parsed: its fields and what `Content-Disposition` and
/// `Content-Type` say.
struct MultipartHead {
    var fields = HTTPFields()
    var name = ""
    var filename: String?
    var contentType: String?

    /// Parses the lines between a boundary line and the empty line (CRLF-separated; a line
    /// starting with a space or tab continues the one before). A line without a colon is a 400.
    static func parse(_ bytes: ArraySlice<UInt8>) throws -> MultipartHead {
        var head = MultipartHead()
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 13, i + 1 < bytes.endIndex, bytes[i + 1] == 10 {
                lines.append(bytes[lineStart..<i])
                i += 2
                lineStart = i
            } else {
                i += 1
            }
        }
        lines.append(bytes[lineStart..<bytes.endIndex])
        var unfolded: [String] = []
        for line in lines where !line.isEmpty {
            let text = String(decoding: line, as: UTF8.self)
            if let first = line.first, first == 0x20 || first == 0x09, !unfolded.isEmpty {
                unfolded[unfolded.count - 1] += " " + text.trimmingSpaces()
            } else {
                unfolded.append(text)
            }
        }
        for line in unfolded {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else {
                throw HTTPError(.badRequest, "multipart part header line is not 'name: value'")
            }
            let value = Substring(line[line.index(after: colon)...]).trimmingSpaces()
            head.fields.append(HTTPField(name: name, value: value))
            if name == .contentType {
                head.contentType = value
            } else if name.canonicalName == "content-disposition" {
                let parameters = HeaderParameters(value)
                head.name = parameters["name"] ?? ""
                head.filename = parameters.extended("filename") ?? parameters["filename"]
            }
        }
        return head
    }
}

/// The `; key=value` parameters of a header value (`form-data; name="a"; filename="x;y.txt"`),
/// with quoted strings read whole: a `;` or `=` inside quotes is text, and a backslash escapes
/// a quote or a backslash (any other backslash is kept: IE sends `C:\dir\file.txt` unescaped).
struct HeaderParameters {
    /// What comes before the first `;` (`form-data`, `multipart/form-data`), trimmed.
    var value: String
    /// Each parameter, its key lowercased, in order.
    var pairs: [(key: String, value: String)] = []

    init(_ text: String) {
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count && bytes[i] != UInt8(ascii: ";") { i += 1 }
        value = Substring(String(decoding: bytes[0..<i], as: UTF8.self)).trimmingSpaces()
        while i < bytes.count {
            i += 1  // the `;`
            let keyStart = i
            while i < bytes.count && bytes[i] != UInt8(ascii: "=") && bytes[i] != UInt8(ascii: ";") { i += 1 }
            let key = Substring(String(decoding: bytes[keyStart..<i], as: UTF8.self)).trimmingSpaces().lowercased()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                if !key.isEmpty { pairs.append((key, "")) }
                continue
            }
            i += 1
            while i < bytes.count && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
            var raw: [UInt8] = []
            if i < bytes.count && bytes[i] == UInt8(ascii: "\"") {
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count,
                       bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\") {
                        i += 1
                    }
                    raw.append(bytes[i])
                    i += 1
                }
                // Past the closing quote, up to the next `;` (anything there is ignored).
                while i < bytes.count && bytes[i] != UInt8(ascii: ";") { i += 1 }
                pairs.append((key, String(decoding: raw, as: UTF8.self)))
            } else {
                let valueStart = i
                while i < bytes.count && bytes[i] != UInt8(ascii: ";") { i += 1 }
                pairs.append((key, Substring(String(decoding: bytes[valueStart..<i], as: UTF8.self)).trimmingSpaces()))
            }
        }
    }

    /// The first value of `key` (lowercase).
    subscript(_ key: String) -> String? { pairs.first { $0.key == key }?.value }

    /// An RFC 8187 extended value (`filename*=UTF-8''%E2%82%AC%20rates.txt`), decoded; nil when
    /// absent, in another charset than UTF-8 or ISO-8859-1, or not valid in its charset.
    func extended(_ key: String) -> String? {
        guard let raw = self[key + "*"] else { return nil }
        let pieces = raw.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return nil }
        var bytes: [UInt8] = []
        var it = Array(pieces[2].utf8)[...]
        while let c = it.popFirst() {
            if c == UInt8(ascii: "%") {
                guard it.count >= 2, let h = Self.hex(it[it.startIndex]), let l = Self.hex(it[it.startIndex + 1]) else { return nil }
                bytes.append(h << 4 | l)
                it = it.dropFirst(2)
            } else {
                bytes.append(c)
            }
        }
        switch pieces[0].lowercased() {
        case "utf-8":
            return String(validating: bytes, as: UTF8.self)
        case "iso-8859-1":
            var s = String.UnicodeScalarView()
            for b in bytes { s.append(Unicode.Scalar(b)) }
            return String(s)
        default:
            return nil
        }
    }

    static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return String(s)
    }
}

extension String {
    func trimmingSpaces() -> String { Substring(self).trimmingSpaces() }
}
