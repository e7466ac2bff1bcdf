// The application's output for one request, framed into STDOUT/STDERR records in one growing
// buffer the worker writes with as few write(2) calls as it can.

/// Frames one request's output: STDOUT and STDERR records, then the end sequence.
///
/// Records carry at most 65535 bytes of content and **no padding**: the specification only
/// recommends 8-byte alignment, and byte-stream sockets gain nothing from it (nginx, libfcgi and
/// php-fpm all accept unpadded records). For a large body, write `bytes` out whenever `count`
/// passes your threshold and `removeAll()` (capacity is kept), then continue.
public struct ResponseWriter: Sendable {
    public private(set) var requestID: UInt16
    @usableFromInline var buffer: [UInt8]
    /// Whether a non-empty STDERR record was framed (the end sequence then closes STDERR too).
    public private(set) var sentStderr = false
    /// Whether `end` was called.
    public private(set) var isEnded = false

    /// A writer for `requestID` whose buffer starts with `capacity` bytes reserved.
    public init(requestID: UInt16, capacity: Int = 16 * 1024) {
        self.requestID = requestID
        buffer = []
        buffer.reserveCapacity(capacity)
    }

    /// Starts over for another request, keeping the buffer's capacity.
    public mutating func reset(requestID: UInt16) {
        self.requestID = requestID
        buffer.removeAll(keepingCapacity: true)
        sentStderr = false
        isEnded = false
    }

    /// The framed bytes not yet removed.
    public var bytes: [UInt8] { buffer }
    /// How many framed bytes are waiting.
    public var count: Int { buffer.count }

    /// Calls `body` with the framed bytes (no copy).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeBytes(body)
    }

    /// Drops the framed bytes (after the worker wrote them), keeping capacity.
    public mutating func removeAll() {
        buffer.removeAll(keepingCapacity: true)
    }

    /// Gives back a buffer that grew past `limit` bytes (one exceptionally large write) so it
    /// does not stay allocated for the life of the worker; a usual one is kept.
    public mutating func releaseCapacity(above limit: Int) {
        guard buffer.capacity > limit, buffer.isEmpty else { return }
        buffer = []
        buffer.reserveCapacity(16 * 1024)
    }

    // MARK: STDOUT

    public mutating func stdout(_ bytes: UnsafeRawBufferPointer) { frame(.stdout, bytes) }
    public mutating func stdout(_ bytes: [UInt8]) { bytes.withUnsafeBytes { frame(.stdout, $0) } }
    public mutating func stdout(_ string: String) { frameUTF8(.stdout, string) }
    public mutating func stdout<C: Collection<UInt8>>(_ bytes: C) { frameCollection(.stdout, bytes) }

    /// Frames the STDOUT bytes that `compose` appends to the framed buffer itself: a response
    /// head is written in place, with no buffer or string of its own. Content over one record's
    /// limit (a head over 64 KiB) is reframed into several records.
    public mutating func stdout(composing compose: (inout [UInt8]) throws -> Void) rethrows {
        precondition(!isEnded, "output after the end of request \(requestID)")
        let headerAt = buffer.count
        RecordHeader(type: .stdout, requestID: requestID, contentLength: 0).encode(into: &buffer)
        do {
            try compose(&buffer)
        } catch {
            buffer.removeSubrange(headerAt...)
            throw error
        }
        let n = buffer.count - headerAt - RecordHeader.size
        if n == 0 {
            buffer.removeSubrange(headerAt...)  // an empty record would end the stream
        } else if n <= fcgiMaxContentLength {
            buffer[headerAt + 4] = UInt8(truncatingIfNeeded: n >> 8)
            buffer[headerAt + 5] = UInt8(truncatingIfNeeded: n)
        } else {
            let content = Array(buffer[(headerAt + RecordHeader.size)...])
            buffer.removeSubrange(headerAt...)
            content.withUnsafeBytes { frame(.stdout, $0) }
        }
    }

    // MARK: STDERR

    public mutating func stderr(_ bytes: UnsafeRawBufferPointer) { frame(.stderr, bytes) }
    public mutating func stderr(_ bytes: [UInt8]) { bytes.withUnsafeBytes { frame(.stderr, $0) } }
    public mutating func stderr(_ string: String) { frameUTF8(.stderr, string) }
    public mutating func stderr<C: Collection<UInt8>>(_ bytes: C) { frameCollection(.stderr, bytes) }

    // MARK: End

    /// Ends the request: the empty STDOUT record, the empty STDERR record when STDERR was used,
    /// then END_REQUEST with `appStatus` and `protocolStatus`.
    public mutating func end(appStatus: UInt32 = 0, protocolStatus: ProtocolStatus = .requestComplete) {
        precondition(!isEnded, "request \(requestID) already ended")
        buffer.reserveCapacity(buffer.count + 32)
        RecordHeader(type: .stdout, requestID: requestID, contentLength: 0).encode(into: &buffer)
        if sentStderr { RecordHeader(type: .stderr, requestID: requestID, contentLength: 0).encode(into: &buffer) }
        Records.appendEndRequest(requestID: requestID, appStatus: appStatus, protocolStatus: protocolStatus, to: &buffer)
        isEnded = true
    }

    /// A framed END_REQUEST alone, e.g. to refuse or abort a request that produced no output.
    public static func endRequest(
        requestID: UInt16, appStatus: UInt32 = 0, protocolStatus: ProtocolStatus = .requestComplete
    ) -> [UInt8] {
        Records.endRequest(requestID: requestID, appStatus: appStatus, protocolStatus: protocolStatus)
    }

    // MARK: Framing

    private mutating func frame(_ type: RecordType, _ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }  // an empty record would end the stream
        precondition(!isEnded, "output after the end of request \(requestID)")
        if type == .stderr { sentStderr = true }
        let records = (bytes.count + fcgiMaxContentLength - 1) / fcgiMaxContentLength
        buffer.reserveCapacity(buffer.count + bytes.count + records * RecordHeader.size)
        var offset = 0
        while offset < bytes.count {
            let n = min(fcgiMaxContentLength, bytes.count - offset)
            RecordHeader(type: type, requestID: requestID, contentLength: UInt16(n)).encode(into: &buffer)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n]))
            offset += n
        }
    }

    private mutating func frameUTF8(_ type: RecordType, _ string: String) {
        var string = string
        string.withUTF8 { frame(type, UnsafeRawBufferPointer($0)) }
    }

    private mutating func frameCollection<C: Collection<UInt8>>(_ type: RecordType, _ bytes: C) {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ frame(type, UnsafeRawBufferPointer($0)) }) {
            return done
        }
        let total = bytes.count
        guard total > 0 else { return }
        precondition(!isEnded, "output after the end of request \(requestID)")
        if type == .stderr { sentStderr = true }
        var rest = bytes[...]
        while !rest.isEmpty {
            let n = min(fcgiMaxContentLength, rest.count)
            RecordHeader(type: type, requestID: requestID, contentLength: UInt16(n)).encode(into: &buffer)
            let chunkEnd = rest.index(rest.startIndex, offsetBy: n)
            buffer.append(contentsOf: rest[..<chunkEnd])
            rest = rest[chunkEnd...]
        }
    }
}
