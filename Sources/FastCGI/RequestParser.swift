// The application side of a FastCGI connection: bytes in, events out. No I/O: the worker
// reads the socket, appends what it read, and takes events until `nextEvent()` says it needs
// more bytes.

/// What the parser found in the bytes appended so far.
public enum ParserEvent: Sendable, Equatable {
    /// A BEGIN_REQUEST for an accepted role started request `requestID`.
    case begin(requestID: UInt16, role: Role, keepConnection: Bool)
    /// The PARAMS stream ended (its empty record arrived); these are all the params.
    case params(FastCGIParams)
    /// A non-empty chunk of the request body. The slice shares the parser's buffer: use it
    /// before the next `append`, or it is copied then.
    case stdin(ArraySlice<UInt8>)
    /// The empty STDIN record: the body is complete.
    case stdinEnd
    /// A non-empty chunk of the FILTER role's data stream (same sharing rule as `stdin`).
    case data(ArraySlice<UInt8>)
    /// The empty DATA record.
    case dataEnd
    /// The server asked to abort the active request. The worker still ends it (END_REQUEST)
    /// and calls `requestFinished()`.
    case abort(requestID: UInt16)
    /// Framed bytes the application must write back as they are: GET_VALUES_RESULT,
    /// UNKNOWN_TYPE, or END_REQUEST refusing a request (`cantMultiplexConnection` for a
    /// second request id on a busy connection, `unknownRole` for a role not accepted).
    case reply([UInt8])
}

/// An incremental parser of the records a web server sends to a FastCGI responder
/// (or authorizer/filter, when accepted).
///
/// A value type, reusable across connections (`reset()` keeps its buffers' capacity). Bytes may
/// be split anywhere; whole records are processed once all their bytes are in. One request is
/// active at a time; a BEGIN_REQUEST for another id while one is active is answered with
/// END_REQUEST(`cantMultiplexConnection`) and that id's later records are skipped.
///
/// Tolerances (as libfcgi and php-fpm): empty STDIN records while no request is active are
/// skipped; ABORT_REQUEST for an id that is not active is ignored. Strictness beyond libfcgi:
/// records for an id that is neither active nor refused are an error, as are PARAMS records
/// after the PARAMS stream ended and STDIN/DATA before it ended, and a request's record
/// (BEGIN_REQUEST, ABORT_REQUEST, PARAMS, STDIN, DATA) with request id 0.
///
/// After `nextEvent()` throws, the connection is unusable: close it and `reset()`.
public struct RequestParser: Sendable {
    public let limits: ParserLimits
    public let management: ManagementValues
    /// Bit `1 << role.rawValue` set for each accepted role.
    private let acceptedRoles: UInt8

    private var buffer: [UInt8] = []
    private var readIndex = 0

    private var hasActive = false
    private var activeID: UInt16 = 0
    private var activeKeepConnection = false
    private var paramsEnded = false
    private var stdinEnded = false
    private var dataEnded = false
    private var paramsBuffer: [UInt8] = []
    /// Ids whose remaining records are skipped: refused requests, and requests finished
    /// before their body was read. Bounded (oldest dropped first).
    private var skipped: [UInt16] = []
    private static let maxSkipped = 8
    private var recordsWithoutRequest = 0
    /// Where the header last checked by `checkHeader` starts, so a record that arrives in
    /// pieces is checked once.
    private var checkedHeaderAt = -1

    /// A parser accepting `acceptedRoles` (the responder role only, by default).
    public init(limits: ParserLimits = .init(), management: ManagementValues, acceptedRoles: Set<Role> = [.responder]) {
        self.limits = limits
        self.management = management
        var mask: UInt8 = 0
        for r in acceptedRoles { mask |= 1 << UInt8(r.rawValue) }
        self.acceptedRoles = mask
        paramsBuffer.reserveCapacity(4096)
        skipped.reserveCapacity(Self.maxSkipped)
    }

    /// The id of the request between its BEGIN_REQUEST and `requestFinished()`, if any.
    public var activeRequestID: UInt16? { hasActive ? activeID : nil }
    /// Whether the active request asked to keep the connection open after it.
    public var keepConnection: Bool { hasActive && activeKeepConnection }
    /// A request was refused (unknown role) without FCGI_KEEP_CONN: once its END_REQUEST is
    /// written the connection is to be closed, as the web server asked.
    public private(set) var closeAfterReply = false
    /// Bytes appended and not yet consumed as whole records.
    public var bufferedCount: Int { buffer.count - readIndex }

    /// Appends bytes read from the connection; they may end anywhere inside a record.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Appends bytes read from the connection.
    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Throws `.truncatedRecord` when bytes of an incomplete record are left: call at EOF to
    /// tell a clean close from one in the middle of a record.
    public func finish() throws(FastCGIError) {
        if bufferedCount > 0 { throw .truncatedRecord(buffered: bufferedCount) }
    }

    /// The worker has ended the active request (END_REQUEST written); on a kept connection a
    /// new BEGIN_REQUEST is now acceptable. If the request's body was not read to its end,
    /// the rest of that request's records are skipped.
    public mutating func requestFinished() {
        if hasActive && !stdinEnded { skip(activeID) }
        hasActive = false
        activeKeepConnection = false
        paramsEnded = false
        stdinEnded = false
        dataEnded = false
        paramsBuffer.removeAll(keepingCapacity: true)
        recordsWithoutRequest = 0
    }

    /// Forgets everything for a new connection, keeping buffer capacity.
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        readIndex = 0
        checkedHeaderAt = -1
        closeAfterReply = false
        requestFinished()
        skipped.removeAll(keepingCapacity: true)
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func nextEvent() throws(FastCGIError) -> ParserEvent? {
        while true {
            let available = buffer.count - readIndex
            guard available >= RecordHeader.size else { return nil }
            let r = readIndex
            let version = buffer[r]
            let type = buffer[r + 1]
            let requestID = UInt16(buffer[r + 2]) << 8 | UInt16(buffer[r + 3])
            let contentLength = Int(buffer[r + 4]) << 8 | Int(buffer[r + 5])
            let paddingLength = Int(buffer[r + 6])
            if r != checkedHeaderAt {
                try checkHeader(version: version, type: type, requestID: requestID, contentLength: contentLength)
                checkedHeaderAt = r
            }
            guard available >= RecordHeader.size + contentLength + paddingLength else { return nil }
            let contentStart = r + RecordHeader.size
            let contentEnd = contentStart + contentLength
            readIndex = contentEnd + paddingLength
            if let event = try process(type: type, requestID: requestID, contentStart: contentStart, contentEnd: contentEnd) {
                return event
            }
        }
    }

    /// Rejects a record from its 8 header bytes alone, before its content arrives: a wrong
    /// version (an HTTP request sent to the FastCGI port), a type an application never
    /// receives on a request, a BEGIN_REQUEST that is not 8 bytes or PARAMS past the limit.
    /// Waiting for the "record" such a header promises would hold the worker for up to 64 KiB
    /// of bytes that will never be valid (php-fpm resets at once too).
    private func checkHeader(version: UInt8, type: UInt8, requestID: UInt16, contentLength: Int) throws(FastCGIError) {
        guard version == fcgiVersion1 else { throw .unsupportedVersion(version) }
        guard requestID != 0 else {
            // Request id 0 is the management channel: a record that belongs to a request there
            // can start nothing, and waiting for what it promises would hold the worker.
            switch RecordType(rawValue: type) {
            case .beginRequest?, .abortRequest?, .params?, .stdin?, .data?:
                throw .requestRecordWithNullID(type: type)
            default:
                return
            }
        }
        switch RecordType(rawValue: type) {
        case .beginRequest?:
            guard contentLength == BeginRequestBody.size else { throw .invalidBeginRequestBody(length: contentLength) }
        case .params?:
            if contentLength > limits.maxParamsBytes { throw .paramsTooLarge(limit: limits.maxParamsBytes) }
        case .getValues?:
            throw .managementRecordWithRequestID(type: type, requestID: requestID)
        case .abortRequest?, .stdin?, .data?:
            break
        case .endRequest?, .stdout?, .stderr?, .getValuesResult?, .unknownType?, nil:
            throw .unexpectedRecordType(type: type, requestID: requestID)
        }
    }

    private mutating func process(
        type: UInt8, requestID: UInt16, contentStart: Int, contentEnd: Int
    ) throws(FastCGIError) -> ParserEvent? {
        let contentLength = contentEnd - contentStart
        if requestID == 0 { return try managementRecord(type: type, contentStart: contentStart, contentEnd: contentEnd) }
        guard let recordType = RecordType(rawValue: type) else {
            // UNKNOWN_TYPE answers management records only; on a request an undefined
            // type is a broken stream (libfcgi rejects it too).
            throw .unexpectedRecordType(type: type, requestID: requestID)
        }
        let isActive = hasActive && requestID == activeID
        switch recordType {
        case .beginRequest:
            guard contentLength == BeginRequestBody.size else { throw .invalidBeginRequestBody(length: contentLength) }
            if hasActive {
                if isActive { throw .duplicateBeginRequest(requestID: requestID) }
                skip(requestID)
                return .reply(Records.endRequest(requestID: requestID, protocolStatus: .cantMultiplexConnection))
            }
            let roleRaw = UInt16(buffer[contentStart]) << 8 | UInt16(buffer[contentStart + 1])
            let flags = buffer[contentStart + 2]
            guard let role = Role(rawValue: roleRaw), acceptedRoles & (1 << UInt8(roleRaw)) != 0 else {
                try countRecordWithoutRequest()
                skip(requestID)
                if flags & fcgiKeepConn == 0 { closeAfterReply = true }
                return .reply(Records.endRequest(requestID: requestID, protocolStatus: .unknownRole))
            }
            unskip(requestID)
            hasActive = true
            activeID = requestID
            activeKeepConnection = flags & fcgiKeepConn != 0
            paramsEnded = false
            stdinEnded = false
            dataEnded = false
            recordsWithoutRequest = 0
            return .begin(requestID: requestID, role: role, keepConnection: activeKeepConnection)

        case .abortRequest:
            if isActive { return .abort(requestID: requestID) }
            // For a request already finished or refused: nothing to abort.
            if !hasActive { try countRecordWithoutRequest() }
            return nil

        case .params:
            guard isActive else { return try foreign(type: type, requestID: requestID, empty: false) }
            guard !paramsEnded else { throw .paramsAfterEnd(requestID: requestID) }
            if contentLength == 0 {
                paramsEnded = true
                let encoded = paramsBuffer
                paramsBuffer = []
                return .params(try FastCGIParams(encoded: encoded, maxCount: limits.maxParamsCount))
            }
            guard contentLength <= limits.maxParamsBytes - paramsBuffer.count else {
                throw .paramsTooLarge(limit: limits.maxParamsBytes)
            }
            if paramsBuffer.capacity == 0 { paramsBuffer.reserveCapacity(contentLength) }
            buffer.withUnsafeBytes { raw in
                paramsBuffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[contentStart..<contentEnd]))
            }
            return nil

        case .stdin:
            guard isActive else { return try foreign(type: type, requestID: requestID, empty: contentLength == 0) }
            guard paramsEnded else { throw .streamBeforeParamsEnd(type: .stdin, requestID: requestID) }
            guard !stdinEnded else { throw .streamAfterEnd(type: .stdin, requestID: requestID) }
            if contentLength == 0 {
                stdinEnded = true
                return .stdinEnd
            }
            return .stdin(buffer[contentStart..<contentEnd])

        case .data:
            guard isActive else { return try foreign(type: type, requestID: requestID, empty: false) }
            guard paramsEnded else { throw .streamBeforeParamsEnd(type: .data, requestID: requestID) }
            guard !dataEnded else { throw .streamAfterEnd(type: .data, requestID: requestID) }
            if contentLength == 0 {
                dataEnded = true
                return .dataEnd
            }
            return .data(buffer[contentStart..<contentEnd])

        case .getValues:
            throw .managementRecordWithRequestID(type: type, requestID: requestID)

        case .endRequest, .stdout, .stderr, .getValuesResult, .unknownType:
            throw .unexpectedRecordType(type: type, requestID: requestID)
        }
    }

    /// A PARAMS, STDIN or DATA record for an id that is not the active request.
    private mutating func foreign(type: UInt8, requestID: UInt16, empty: Bool) throws(FastCGIError) -> ParserEvent? {
        if skipped.contains(requestID) { return nil }
        if empty && type == RecordType.stdin.rawValue && !hasActive {
            // Some servers send an empty STDIN before (or between) requests; libfcgi and
            // php-fpm skip it.
            try countRecordWithoutRequest()
            return nil
        }
        throw .unexpectedRequestID(type: type, requestID: requestID, active: activeRequestID)
    }

    private mutating func managementRecord(type: UInt8, contentStart: Int, contentEnd: Int) throws(FastCGIError) -> ParserEvent {
        try countRecordWithoutRequest()
        guard type == RecordType.getValues.rawValue else { return .reply(Records.unknownType(type)) }
        let management = self.management
        return .reply(try withBytes(buffer) { (raw) throws(FastCGIError) in
            try management.reply(to: UnsafeRawBufferPointer(rebasing: raw[contentStart..<contentEnd]))
        })
    }

    private mutating func countRecordWithoutRequest() throws(FastCGIError) {
        guard !hasActive else { return }
        recordsWithoutRequest += 1
        if recordsWithoutRequest > limits.maxRecordsBeforeBegin {
            throw .tooManyRecordsBeforeBegin(limit: limits.maxRecordsBeforeBegin)
        }
    }

    private mutating func skip(_ id: UInt16) {
        if skipped.contains(id) { return }
        if skipped.count == Self.maxSkipped { skipped.removeFirst() }
        skipped.append(id)
    }

    private mutating func unskip(_ id: UInt16) {
        if let i = skipped.firstIndex(of: id) { skipped.remove(at: i) }
    }

    /// Drops consumed bytes before an append: all of them when the buffer is used up (no copy),
    /// else when they are at least half of it (amortised copy of the tail).
    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            checkedHeaderAt = -1
            readIndex = 0
        } else if readIndex >= buffer.count - readIndex {
            buffer.removeSubrange(0..<readIndex)
            if checkedHeaderAt == readIndex { checkedHeaderAt = 0 } else { checkedHeaderAt = -1 }
            readIndex = 0
        }
    }
}
