// Name-value pairs: the body of PARAMS, GET_VALUES and GET_VALUES_RESULT. Each length is one
// byte when under 128, else four bytes big-endian with the top bit set (31-bit lengths).

/// Encoding and decoding of FastCGI name-value pairs.
public enum NameValuePairs {
    /// The largest name or value length the 4-byte form can express.
    public static let maxLength = Int(Int32.max)

    /// Appends the encoded length: one byte below 128, else four with the top bit set.
    @inlinable
    public static func appendLength(_ length: Int, to buffer: inout [UInt8]) {
        precondition(length >= 0 && length <= maxLength, "name-value length out of range")
        if length < 128 {
            buffer.append(UInt8(length))
        } else {
            buffer.append(UInt8(truncatingIfNeeded: length >> 24) | 0x80)
            buffer.append(UInt8(truncatingIfNeeded: length >> 16))
            buffer.append(UInt8(truncatingIfNeeded: length >> 8))
            buffer.append(UInt8(truncatingIfNeeded: length))
        }
    }

    /// Appends one encoded pair.
    public static func append<N: Collection<UInt8>, V: Collection<UInt8>>(name: N, value: V, to buffer: inout [UInt8]) {
        appendLength(name.count, to: &buffer)
        appendLength(value.count, to: &buffer)
        buffer.append(contentsOf: name)
        buffer.append(contentsOf: value)
    }

    /// The encoded bytes of `pairs` (names and values as UTF-8), in order.
    public static func encode(_ pairs: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in pairs { append(name: name.utf8, value: value.utf8, to: &out) }
        return out
    }

    /// The encoded bytes of `pairs` given as bytes.
    public static func encode(_ pairs: [([UInt8], [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        for (name, value) in pairs { append(name: name, value: value, to: &out) }
        return out
    }

    /// Where one decoded pair lies inside the buffer it was decoded from.
    public struct Span: Sendable, Equatable {
        public var nameStart: Int
        public var nameCount: Int
        public var valueStart: Int
        public var valueCount: Int

        @inlinable
        public init(nameStart: Int, nameCount: Int, valueStart: Int, valueCount: Int) {
            self.nameStart = nameStart
            self.nameCount = nameCount
            self.valueStart = valueStart
            self.valueCount = valueCount
        }
    }

    /// Decodes the pair starting at `offset`, returning its span and the offset after it.
    /// Throws `.truncatedNameValuePair` when a length or its bytes run past the end.
    @inlinable
    public static func decodePair(
        _ bytes: UnsafeRawBufferPointer, at offset: Int
    ) throws(FastCGIError) -> (span: Span, next: Int) {
        var i = offset
        let end = bytes.count
        @inline(__always) func length(_ i: inout Int) throws(FastCGIError) -> Int {
            guard i < end else { throw .truncatedNameValuePair(offset: offset) }
            let b0 = bytes[i]
            if b0 & 0x80 == 0 {
                i += 1
                return Int(b0)
            }
            guard end - i >= 4 else { throw .truncatedNameValuePair(offset: offset) }
            let n = Int(b0 & 0x7f) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            i += 4
            return n
        }
        let nameCount = try length(&i)
        let valueCount = try length(&i)
        guard end - i >= nameCount, end - i - nameCount >= valueCount else {
            throw .truncatedNameValuePair(offset: offset)
        }
        let span = Span(nameStart: i, nameCount: nameCount, valueStart: i + nameCount, valueCount: valueCount)
        return (span, i + nameCount + valueCount)
    }

    /// Decodes every pair of `bytes` as byte arrays, in order.
    public static func decodeBytes(_ bytes: UnsafeRawBufferPointer) throws(FastCGIError) -> [([UInt8], [UInt8])] {
        var out: [([UInt8], [UInt8])] = []
        var offset = 0
        while offset < bytes.count {
            let (s, next) = try decodePair(bytes, at: offset)
            out.append((Array(bytes[s.nameStart..<s.nameStart + s.nameCount]),
                        Array(bytes[s.valueStart..<s.valueStart + s.valueCount])))
            offset = next
        }
        return out
    }

    /// Decodes every pair of `bytes` as strings (invalid UTF-8 is repaired), in order.
    public static func decode(_ bytes: [UInt8]) throws(FastCGIError) -> [(String, String)] {
        let raw = try withBytes(bytes) { (p) throws(FastCGIError) in try decodeBytes(p) }
        return raw.map { (String(decoding: $0.0, as: UTF8.self), String(decoding: $0.1, as: UTF8.self)) }
    }
}

/// `withUnsafeBytes` for a body with a typed error (the stdlib's is `rethrows`, which erases it).
@inlinable
func withBytes<R>(
    _ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(FastCGIError) -> R
) throws(FastCGIError) -> R {
    let result: Result<R, FastCGIError> = array.withUnsafeBytes { raw in
        Result { () throws(FastCGIError) -> R in try body(raw) }
    }
    return try result.get()
}
