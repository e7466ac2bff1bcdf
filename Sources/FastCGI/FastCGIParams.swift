// A request's params, kept as the PARAMS stream's own bytes plus one small index entry per
// pair: two allocations per request, no String until someone asks for one.

/// The params of one request, in arrival order.
///
/// Storage is the encoded PARAMS stream as received and an index of where each name and value
/// lies in it. Lookups compare bytes; `withValue` gives a value's bytes without creating a
/// String. When a name occurs more than once, lookups return the **last** occurrence (as
/// php-fpm does); iteration yields every occurrence in arrival order.
public struct FastCGIParams: Sendable {
    @usableFromInline
    struct Entry: Sendable {
        @usableFromInline var nameStart: UInt32
        @usableFromInline var nameCount: UInt32
        @usableFromInline var valueCount: UInt32
        @inlinable var valueStart: Int { Int(nameStart) + Int(nameCount) }
    }

    @usableFromInline var storage: [UInt8]
    @usableFromInline var entries: [Entry]
    /// Where the well-known names are (`KnownParamNames`), found while indexing.
    @usableFromInline var known = KnownParamNames()

    /// No params.
    public init() {
        storage = []
        entries = []
    }

    /// Params from pairs, in order (for tests and clients).
    public init(_ pairs: [(String, String)]) {
        // Encoded pairs always decode; the limits are the widest possible.
        self = try! FastCGIParams(encoded: NameValuePairs.encode(pairs), maxCount: Int.max)
    }

    /// The index's first capacity (12 bytes an entry).
    static let usualCount = 48

    /// Indexes an encoded PARAMS stream, taking ownership of `encoded`.
    /// Throws `.truncatedNameValuePair` or `.tooManyParams(limit: maxCount)`.
    public init(encoded: [UInt8], maxCount: Int) throws(FastCGIError) {
        precondition(encoded.count <= Int(UInt32.max), "params storage over 4 GiB")
        // One pass: room for what nginx or Apache send with a browser's headers (20 to 40
        // pairs) at once, so the index is one allocation; a longer request regrows it once or
        // twice rather than every request decoding its pairs twice to count them. The index
        // is built in the closure's own locals (captured ones would be boxed).
        let capacity = Swift.min(maxCount, Self.usualCount)
        if let index = Self.quickIndex(encoded, capacity: capacity) {
            (entries, known) = index
            storage = encoded
            return
        }
        (entries, known) = try withBytes(encoded) { (bytes) throws(FastCGIError) in
            var entries: [Entry] = []
            entries.reserveCapacity(capacity)
            var known = KnownParamNames()
            var offset = 0
            while offset < bytes.count {
                let (span, next) = try NameValuePairs.decodePair(bytes, at: offset)
                guard entries.count < maxCount else { throw .tooManyParams(limit: maxCount) }
                let name = UnsafeRawBufferPointer(rebasing: bytes[span.nameStart..<span.nameStart + span.nameCount])
                if let slot = KnownParamNames.slot(of: name) { known.record(slot, entry: entries.count) }
                entries.append(Entry(
                    nameStart: UInt32(span.nameStart), nameCount: UInt32(span.nameCount),
                    valueCount: UInt32(span.valueCount)))
                offset = next
            }
            return (entries, known)
        }
        self.storage = encoded
    }

    /// The usual request's index in one pass of pointer reads, written straight into an array
    /// of `capacity` (no append, no check per pair but the bounds): nil when the stream does not
    /// fit it (more pairs, or a pair cut short), and the checked loop of `init` indexes it, or
    /// throws. About a third of the checked loop's cost per pair (callgrind).
    @inline(__always)
    static func quickIndex(_ encoded: [UInt8], capacity: Int) -> ([Entry], KnownParamNames)? {
        encoded.withUnsafeBytes { bytes -> ([Entry], KnownParamNames)? in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return ([], KnownParamNames()) }
            let end = bytes.count
            var known = KnownParamNames()
            var fits = true
            let entries = [Entry](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                var offset = 0, n = 0
                @inline(__always) func length(_ i: inout Int) -> Int? {
                    guard i < end else { return nil }
                    let b0 = base.load(fromByteOffset: i, as: UInt8.self)
                    if b0 & 0x80 == 0 {
                        i += 1
                        return Int(b0)
                    }
                    guard end - i >= 4 else { return nil }
                    let n = Int(b0 & 0x7f) << 24 | Int(base.load(fromByteOffset: i + 1, as: UInt8.self)) << 16
                        | Int(base.load(fromByteOffset: i + 2, as: UInt8.self)) << 8 | Int(base.load(fromByteOffset: i + 3, as: UInt8.self))
                    i += 4
                    return n
                }
                while offset < end {
                    var i = offset
                    guard n < capacity, let nameCount = length(&i), let valueCount = length(&i),
                          end - i >= nameCount, end - i - nameCount >= valueCount else {
                        fits = false
                        break
                    }
                    if let slot = KnownParamNames.slot(of: UnsafeRawBufferPointer(start: base + i, count: nameCount)) {
                        known.record(slot, entry: n)
                    }
                    (buffer.baseAddress! + n).initialize(to: Entry(
                        nameStart: UInt32(truncatingIfNeeded: i), nameCount: UInt32(truncatingIfNeeded: nameCount),
                        valueCount: UInt32(truncatingIfNeeded: valueCount)))
                    n += 1
                    offset = i + nameCount + valueCount
                }
                initialized = n
            }
            return fits ? (entries, known) : nil
        }
    }

    /// The number of pairs, duplicates included.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// The encoded PARAMS stream these params were read from.
    public var encoded: [UInt8] { storage }

    /// The last value for `name`, decoded as UTF-8 (invalid sequences repaired).
    public subscript(_ name: String) -> String? {
        withValue(name) { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Whether some pair has this name.
    public func contains(_ name: String) -> Bool {
        withValue(name) { $0 != nil }
    }

    /// Calls `body` with the bytes of the last value for `name`, or nil when absent.
    /// No String and no heap allocation for a native (contiguous) `name`.
    @inlinable
    public func withValue<R>(_ name: String, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        var name = name
        return try name.withUTF8 { try withValue(bytes: UnsafeRawBufferPointer($0), body) }
    }

    /// Calls `body` with the bytes of the last value for `name`, or nil when absent.
    @inlinable
    public func withValue<R>(_ name: StaticString, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        precondition(name.hasPointerRepresentation, "parameter names are not single scalars")
        return try withValue(
            bytes: UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), body)
    }

    /// Calls `body` with the bytes of the last value whose name is `name`, or nil when absent.
    @inlinable
    public func withValue<R>(
        bytes name: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) rethrows -> R {
        try storage.withUnsafeBytes { raw in
            if let e = index(of: name, in: raw) {
                return try body(UnsafeRawBufferPointer(rebasing: raw[e.valueStart..<e.valueStart + Int(e.valueCount)]))
            }
            return try body(nil)
        }
    }

    /// Where the value of `name` (its last occurrence) lies in `withEncodedBytes`' bytes, or
    /// nil: several values read in one pass over the storage, without a closure per name.
    @inlinable
    public func valueRange(_ name: StaticString) -> Range<Int>? {
        precondition(name.hasPointerRepresentation, "parameter names are not single scalars")
        let bytes = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        return storage.withUnsafeBytes { raw in
            index(of: bytes, in: raw).map { $0.valueStart..<$0.valueStart + Int($0.valueCount) }
        }
    }

    /// Where the value of a well-known name lies in `withEncodedBytes`' bytes, or nil: its slot
    /// read from the index, no name compared (the request path's lookups).
    @inlinable @inline(__always)
    public func valueRange(_ name: KnownParam) -> Range<Int>? {
        let found = known.entry(name.rawValue)
        if found == KnownParamNames.absent { return nil }
        guard found != KnownParamNames.unindexed else { return scannedValueRange(name) }
        let e = entries[Int(found)]
        return e.valueStart..<e.valueStart + Int(e.valueCount)
    }

    /// Calls `body` with the bytes of the last value of a well-known name, or nil when absent.
    @inlinable
    public func withValue<R>(_ name: KnownParam, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        guard let range = valueRange(name) else { return try body(nil) }
        return try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// `valueRange(_:)` for a request of over 65534 pairs, whose slots do not hold the index.
    @usableFromInline
    func scannedValueRange(_ name: KnownParam) -> Range<Int>? {
        let bytes = KnownParamNames.name(name.rawValue)
        return storage.withUnsafeBytes { raw in
            index(of: UnsafeRawBufferPointer(start: bytes.utf8Start, count: bytes.utf8CodeUnitCount), in: raw)
                .map { $0.valueStart..<$0.valueStart + Int($0.valueCount) }
        }
    }

    /// Calls `body` with the encoded PARAMS bytes that `valueRange` positions point into.
    @inlinable
    public func withEncodedBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    @inlinable
    func index(of name: UnsafeRawBufferPointer, in raw: UnsafeRawBufferPointer) -> Entry? {
        if let slot = KnownParamNames.slot(of: name) {
            let found = known.entry(slot)
            if found == KnownParamNames.absent { return nil }
            if found != KnownParamNames.unindexed { return entries[Int(found)] }
        }
        var i = entries.count
        while i > 0 {
            i -= 1
            let e = entries[i]
            guard Int(e.nameCount) == name.count else { continue }
            let start = Int(e.nameStart)
            if name.count == 0 { return e }
            if memcmpBytes(raw.baseAddress! + start, name.baseAddress!, name.count) { return e }
        }
        return nil
    }

    /// Calls `body` with each pair's name and value bytes, in arrival order.
    public func forEachBytes(_ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Void) rethrows {
        try storage.withUnsafeBytes { raw in
            for e in entries {
                let ns = Int(e.nameStart)
                try body(UnsafeRawBufferPointer(rebasing: raw[ns..<ns + Int(e.nameCount)]),
                         UnsafeRawBufferPointer(rebasing: raw[e.valueStart..<e.valueStart + Int(e.valueCount)]))
            }
        }
    }

    /// The pairs as byte arrays, in arrival order.
    public var bytePairs: [([UInt8], [UInt8])] {
        var out: [([UInt8], [UInt8])] = []
        out.reserveCapacity(count)
        forEachBytes { out.append((Array($0), Array($1))) }
        return out
    }
}

@inlinable
func memcmpBytes(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    var i = 0
    while i < n {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}

extension FastCGIParams: Sequence {
    public struct Iterator: IteratorProtocol {
        let params: FastCGIParams
        var index = 0

        public mutating func next() -> (name: String, value: String)? {
            guard index < params.entries.count else { return nil }
            let e = params.entries[index]
            index += 1
            let ns = Int(e.nameStart)
            let name = String(decoding: params.storage[ns..<ns + Int(e.nameCount)], as: UTF8.self)
            let value = String(decoding: params.storage[e.valueStart..<e.valueStart + Int(e.valueCount)], as: UTF8.self)
            return (name, value)
        }
    }

    public func makeIterator() -> Iterator { Iterator(params: self) }
    public var underestimatedCount: Int { count }
}

extension FastCGIParams: Equatable {
    /// Equal when the same pairs come in the same order (however their lengths were encoded).
    public static func == (lhs: FastCGIParams, rhs: FastCGIParams) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.storage == rhs.storage { return true }
        return lhs.bytePairs.elementsEqual(rhs.bytePairs) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}

extension FastCGIParams: CustomStringConvertible {
    public var description: String {
        "[" + map { "\($0.name)=\($0.value)" }.joined(separator: ", ") + "]"
    }
}
