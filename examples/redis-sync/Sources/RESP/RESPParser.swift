/// Incremental RESP2 reply parser: bytes in as they arrive (any split), whole replies out.
///
/// Bounded, because the bytes come from a server that may be wrong or hostile: a line (simple
/// string, error, integer, length) longer than `maxLineLength`, a bulk string longer than
/// `maxBulkLength`, an array of more than `maxArrayCount` elements or nested deeper than
/// `maxDepth` is a protocol error, not an allocation. No I/O here (RedisConnection does it).
public struct RESPParser {
    public struct Limits: Sendable {
        public var maxLineLength = 64 * 1024
        public var maxBulkLength = 64 * 1024 * 1024
        public var maxArrayCount = 1024 * 1024
        public var maxDepth = 32
        public init() {}
    }

    public let limits: Limits
    private var buffer: [UInt8] = []
    private var start = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Bytes received and not yet returned as a reply.
    public var bufferedCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        // Drop what earlier replies consumed before growing the buffer.
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole reply, or nil when more bytes are needed (nothing is consumed then).
    public mutating func next() throws(RESPError) -> RESPValue? {
        var index = start
        guard let value = try parse(at: &index, depth: 0) else { return nil }
        start = index
        return value
    }

    private func parse(at index: inout Int, depth: Int) throws(RESPError) -> RESPValue? {
        guard index < buffer.count else { return nil }
        let type = buffer[index]
        guard let (lineEnd, next) = try line(from: index + 1) else { return nil }
        let lineStart = index + 1
        switch type {
        case UInt8(ascii: "+"):
            index = next
            return .simpleString(String(decoding: buffer[lineStart..<lineEnd], as: UTF8.self))
        case UInt8(ascii: "-"):
            index = next
            return .error(String(decoding: buffer[lineStart..<lineEnd], as: UTF8.self))
        case UInt8(ascii: ":"):
            index = next
            return .integer(try integer(lineStart..<lineEnd))
        case UInt8(ascii: "$"):
            let length = try integer(lineStart..<lineEnd)
            if length == -1 { index = next; return .bulkString(nil) }
            guard length >= 0 else { throw .protocolViolation("bulk length \(length)") }
            guard length <= limits.maxBulkLength else { throw .tooLarge("bulk string of \(length) bytes") }
            let end = next + Int(length)
            guard end + 2 <= buffer.count else { return nil }
            guard buffer[end] == 13 && buffer[end + 1] == 10 else { throw .protocolViolation("bulk string not ended by CRLF") }
            index = end + 2
            return .bulkString(Array(buffer[next..<end]))
        case UInt8(ascii: "*"):
            let count = try integer(lineStart..<lineEnd)
            if count == -1 { index = next; return .array(nil) }
            guard count >= 0 else { throw .protocolViolation("array count \(count)") }
            guard count <= limits.maxArrayCount else { throw .tooLarge("array of \(count) elements") }
            guard depth < limits.maxDepth else { throw .tooLarge("arrays nested deeper than \(limits.maxDepth)") }
            var cursor = next
            var elements: [RESPValue] = []
            elements.reserveCapacity(min(Int(count), 1024))
            for _ in 0..<count {
                guard let element = try parse(at: &cursor, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            index = cursor
            return .array(elements)
        default:
            throw .protocolViolation("unknown reply type byte \(type)")
        }
    }

    /// The end of the line starting at `from` (index of its CR) and the index after its LF;
    /// nil when the LF has not arrived yet.
    private func line(from: Int) throws(RESPError) -> (Int, Int)? {
        var i = from
        let limit = min(buffer.count, from + limits.maxLineLength + 2)
        while i < limit {
            if buffer[i] == 10 {
                guard i > from, buffer[i - 1] == 13 else { throw .protocolViolation("line not ended by CRLF") }
                return (i - 1, i + 1)
            }
            i += 1
        }
        if buffer.count - from > limits.maxLineLength + 1 { throw .tooLarge("line longer than \(limits.maxLineLength) bytes") }
        return nil
    }

    private func integer(_ range: Range<Int>) throws(RESPError) -> Int64 {
        var i = range.lowerBound
        var negative = false
        if i < range.upperBound && buffer[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < range.upperBound, range.upperBound - i <= 19 else { throw .protocolViolation("bad integer") }
        var value: Int64 = 0
        while i < range.upperBound {
            let d = buffer[i] &- UInt8(ascii: "0")
            guard d < 10 else { throw .protocolViolation("bad integer") }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1 && !o2 else { throw .protocolViolation("integer overflow") }
            value = s
            i += 1
        }
        return negative ? -value : value
    }
}
