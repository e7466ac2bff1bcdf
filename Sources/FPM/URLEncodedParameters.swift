import FPMServer

/// `application/x-www-form-urlencoded` name/value pairs: a query string or a form body.
///
/// Nothing is decoded up front: a lookup scans the raw text and decodes (`+` is a space, `%XX`
/// a byte) only the names that need it and the values it returns. Iterating gives every pair
/// in order, decoded.
public struct URLEncodedParameters: Sequence, Sendable {
    /// The text as received (`a=1&b=2`).
    public let raw: String

    /// Parameters over `raw` (no work is done here).
    public init(_ raw: String) { self.raw = raw }

    /// The first value of `name`; nil when it is absent (`""` for `?flag` or `?flag=`).
    public subscript(_ name: String) -> String? {
        for part in raw.utf8.split(separator: UInt8(ascii: "&")) {
            let (key, value) = Self.split(part)
            if Self.matches(key, name) { return Self.decode(value) }
        }
        return nil
    }

    /// Every value of `name`, in order (`?tag=a&tag=b` → `["a", "b"]`).
    public func values(for name: String) -> [String] {
        var out: [String] = []
        for part in raw.utf8.split(separator: UInt8(ascii: "&")) {
            let (key, value) = Self.split(part)
            if Self.matches(key, name) { out.append(Self.decode(value)) }
        }
        return out
    }

    /// Whether `name` is present, with or without a value.
    public func contains(_ name: String) -> Bool {
        raw.utf8.split(separator: UInt8(ascii: "&")).contains { Self.matches(Self.split($0).key, name) }
    }

    /// Whether there is no pair at all.
    public var isEmpty: Bool { raw.utf8.split(separator: UInt8(ascii: "&")).isEmpty }

    /// Every pair, decoded, in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        raw.utf8.split(separator: UInt8(ascii: "&")).map { part in
            let (key, value) = Self.split(part)
            return (Self.decode(key), Self.decode(value))
        }.makeIterator()
    }

    typealias Bytes = Substring.UTF8View.SubSequence

    static func split(_ part: String.UTF8View.SubSequence) -> (key: String.UTF8View.SubSequence, value: String.UTF8View.SubSequence) {
        guard let eq = part.firstIndex(of: UInt8(ascii: "=")) else { return (part, part[part.endIndex...]) }
        return (part[..<eq], part[part.index(after: eq)...])
    }

    /// Compares a raw (encoded) name with a decoded one; decodes only when the raw name has
    /// escapes.
    static func matches(_ key: String.UTF8View.SubSequence, _ name: String) -> Bool {
        if !key.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            return key.elementsEqual(name.utf8)
        }
        return decode(key) == name
    }

    static func decode(_ bytes: String.UTF8View.SubSequence) -> String {
        FormDecoding.unescape(Substring(bytes))
    }
}

/// The request's cookies, from its `Cookie` header (`a=1; b=2`), looked up by name.
public struct Cookies: Sequence, Sendable {
    /// The header as received.
    public let raw: String

    /// Cookies over a `Cookie` header's value (no work is done here).
    public init(_ raw: String) { self.raw = raw }

    /// The first cookie named `name` (values are returned as sent: cookies are not URL-encoded
    /// by the protocol; surrounding double quotes are removed).
    public subscript(_ name: String) -> String? {
        for (n, v) in pairs() where n.elementsEqual(name) { return String(v) }
        return nil
    }

    /// Every cookie, in order.
    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        pairs().map { (String($0.0), String($0.1)) }.makeIterator()
    }

    func pairs() -> [(Substring, Substring)] {
        raw.split(separator: ";").compactMap { part in
            let trimmed = part.drop { $0 == " " || $0 == "\t" }
            guard let eq = trimmed.firstIndex(of: "=") else { return nil }
            let name = trimmed[..<eq].trimmingTrailingSpaces()
            var value = trimmed[trimmed.index(after: eq)...].trimmingTrailingSpaces()
            value = value.drop { $0 == " " }
            if value.count >= 2, value.first == "\"", value.last == "\"" { value = value.dropFirst().dropLast() }
            return name.isEmpty ? nil : (name, value)
        }
    }
}

extension Substring {
    func trimmingTrailingSpaces() -> Substring {
        var s = self
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return s
    }
}
