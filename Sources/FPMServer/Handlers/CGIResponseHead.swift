/// The head of a CGI script's output (RFC 3875 §6): header fields up to the first empty line,
/// read incrementally as the script writes them.
package struct CGIResponseHead: Equatable, Sendable {
    /// `Status:` as a number, when the script sent one.
    package var status: Int?
    /// `Location:`, when the script sent one.
    package var location: String?
    /// Every other field, in order (duplicates such as Set-Cookie kept).
    package var fields: [Field] = []

    package struct Field: Equatable, Sendable {
        package var name: String
        package var value: String

        package init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The HTTP status to answer with: `Status:`, else 302 for a redirect, else 200.
    package var effectiveStatus: Int {
        if let status { return status }
        return location != nil ? 302 : 200
    }

    /// A local redirect (RFC 3875 §6.2.2): a `Location:` that is a path, no Status. A gateway
    /// behind a web server cannot re-run the request inside the server, so it is answered as a
    /// client redirect (302) to that path, which the web server's host resolves.
    package var isLocalRedirect: Bool {
        guard status == nil, let location else { return false }
        return location.hasPrefix("/")
    }

    package enum ParseError: Error, Equatable, CustomStringConvertible {
        case tooLarge(limit: Int)
        case malformedLine(String)
        case badStatus(String)

        package var description: String {
            switch self {
            case .tooLarge(let limit): return "response header larger than \(limit) bytes"
            case .malformedLine(let line): return "malformed header line '\(line)'"
            case .badStatus(let value): return "malformed Status header '\(value)'"
            }
        }
    }
}

/// Accumulates a script's first output bytes until the empty line that ends its head.
package struct CGIResponseHeadParser {
    /// Refuse heads larger than this (a script that never ends its head must not use unbounded
    /// memory).
    package let limit: Int
    private var buffer: [UInt8] = []
    /// Where to resume scanning, and where the line being scanned began.
    private var scanned = 0
    private var lineStart = 0

    package init(limit: Int = 64 * 1024) {
        self.limit = limit
    }

    /// Adds bytes. Returns the head and the body bytes that followed it once the head is
    /// complete; nil while more is needed.
    package mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(CGIResponseHead.ParseError) -> (CGIResponseHead, [UInt8])? {
        buffer.append(contentsOf: bytes)
        // Lines end with LF or CR LF (scripts use either); an empty line ends the head.
        while scanned < buffer.count {
            let j = scanned
            scanned += 1
            guard buffer[j] == 0x0A else { continue }
            let length = j - lineStart
            if length == 0 || (length == 1 && buffer[lineStart] == 0x0D) {
                return try finish(headEnd: lineStart, bodyStart: j + 1)
            }
            lineStart = j + 1
        }
        if buffer.count > limit { throw .tooLarge(limit: limit) }
        return nil
    }

    package mutating func feed(_ bytes: [UInt8]) throws(CGIResponseHead.ParseError) -> (CGIResponseHead, [UInt8])? {
        var outcome: Result<(CGIResponseHead, [UInt8])?, CGIResponseHead.ParseError> = .success(nil)
        bytes.withUnsafeBytes { raw in
            do throws(CGIResponseHead.ParseError) { outcome = .success(try feed(raw)) } catch { outcome = .failure(error) }
        }
        return try outcome.get()
    }

    /// Bytes received and not yet parsed (when the script ended before its head did).
    package var pending: Int { buffer.count }

    private func finish(headEnd: Int, bodyStart: Int) throws(CGIResponseHead.ParseError) -> (CGIResponseHead, [UInt8]) {
        if headEnd > limit { throw .tooLarge(limit: limit) }
        var head = CGIResponseHead()
        if headEnd > 0 {
            for rawLine in buffer[0..<headEnd].split(separator: 0x0A, omittingEmptySubsequences: true) {
                var line = rawLine[...]
                if line.last == 0x0D { line = line.dropLast() }
                if line.isEmpty { continue }
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                    throw .malformedLine(String(decoding: line.prefix(200), as: UTF8.self))
                }
                let nameBytes = line[line.startIndex..<colon]
                guard nameBytes.allSatisfy(Self.isTokenByte) else {
                    throw .malformedLine(String(decoding: line.prefix(200), as: UTF8.self))
                }
                let name = String(decoding: nameBytes, as: UTF8.self)
                let value = String(decoding: Self.trim(line[(colon + 1)...]), as: UTF8.self)
                if name.caseInsensitiveEquals("Status") {
                    let digits = value.utf8.prefix { $0 >= 48 && $0 <= 57 }
                    guard digits.count == 3, let code = Int(String(decoding: digits, as: UTF8.self)), code >= 100,
                          value.utf8.count == 3 || value.utf8.dropFirst(3).first == 0x20 else {
                        throw .badStatus(value)
                    }
                    head.status = code
                } else if name.caseInsensitiveEquals("Location") {
                    head.location = value
                } else {
                    head.fields.append(.init(name: name, value: value))
                }
            }
        }
        return (head, Array(buffer[bodyStart...]))
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }

    static func trim(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }
}
