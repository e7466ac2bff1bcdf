// Record framing of FastCGI 1.0: the 8-byte header, the record types, roles, statuses and the
// fixed-size bodies of BEGIN_REQUEST and END_REQUEST.

/// The protocol version every record carries. FastCGI has only ever had version 1.
public let fcgiVersion1: UInt8 = 1

/// `FCGI_KEEP_CONN`: the bit of BEGIN_REQUEST's flags asking the application to keep the
/// connection open after the request ends.
public let fcgiKeepConn: UInt8 = 1

/// The largest content one record can carry (its length field is 16 bits).
public let fcgiMaxContentLength = 65535

/// A record's type, the second byte of its header.
public enum RecordType: UInt8, Sendable, CaseIterable {
    case beginRequest = 1
    case abortRequest = 2
    case endRequest = 3
    case params = 4
    case stdin = 5
    case stdout = 6
    case stderr = 7
    case data = 8
    case getValues = 9
    case getValuesResult = 10
    case unknownType = 11
}

/// The role a BEGIN_REQUEST asks the application to play.
public enum Role: UInt16, Sendable, CaseIterable {
    case responder = 1
    case authorizer = 2
    case filter = 3
}

/// The protocol-level outcome an END_REQUEST reports.
public enum ProtocolStatus: UInt8, Sendable, CaseIterable {
    /// Normal end of the request.
    case requestComplete = 0
    /// A second request arrived on a connection that serves one request at a time.
    case cantMultiplexConnection = 1
    /// The application is out of some resource (e.g. database connections).
    case overloaded = 2
    /// The application does not play the role the server asked for.
    case unknownRole = 3
}

/// The 8-byte header that starts every record.
///
/// `type` is kept raw so a header with a type this library does not know can still be
/// decoded and answered with UNKNOWN_TYPE; `recordType` gives the known type, if any.
public struct RecordHeader: Sendable, Equatable {
    public static let size = 8

    public var version: UInt8
    public var type: UInt8
    public var requestID: UInt16
    public var contentLength: UInt16
    public var paddingLength: UInt8

    public init(
        version: UInt8 = fcgiVersion1, type: UInt8, requestID: UInt16, contentLength: UInt16,
        paddingLength: UInt8 = 0
    ) {
        self.version = version
        self.type = type
        self.requestID = requestID
        self.contentLength = contentLength
        self.paddingLength = paddingLength
    }

    public init(
        type: RecordType, requestID: UInt16, contentLength: UInt16, paddingLength: UInt8 = 0
    ) {
        self.init(type: type.rawValue, requestID: requestID, contentLength: contentLength, paddingLength: paddingLength)
    }

    /// The known record type, or nil for a type value this library does not know.
    public var recordType: RecordType? { RecordType(rawValue: type) }

    /// The bytes of content plus padding that follow this header.
    public var bodyLength: Int { Int(contentLength) + Int(paddingLength) }

    /// Decodes a header from the first 8 bytes of `bytes`; nil when fewer are available.
    /// Any version is decoded: checking it is the reader's business.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> RecordHeader? {
        guard bytes.count >= size else { return nil }
        return RecordHeader(
            version: bytes[0], type: bytes[1],
            requestID: UInt16(bytes[2]) << 8 | UInt16(bytes[3]),
            contentLength: UInt16(bytes[4]) << 8 | UInt16(bytes[5]),
            paddingLength: bytes[6])
    }

    /// Decodes a header from the first 8 bytes of `bytes`; nil when fewer are available.
    public static func decode<C: Collection<UInt8>>(_ bytes: C) -> RecordHeader? {
        guard bytes.count >= size else { return nil }
        var i = bytes.startIndex
        var b = (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))
        b.0 = bytes[i]; bytes.formIndex(after: &i)
        b.1 = bytes[i]; bytes.formIndex(after: &i)
        b.2 = bytes[i]; bytes.formIndex(after: &i)
        b.3 = bytes[i]; bytes.formIndex(after: &i)
        b.4 = bytes[i]; bytes.formIndex(after: &i)
        b.5 = bytes[i]; bytes.formIndex(after: &i)
        b.6 = bytes[i]
        return RecordHeader(
            version: b.0, type: b.1, requestID: UInt16(b.2) << 8 | UInt16(b.3),
            contentLength: UInt16(b.4) << 8 | UInt16(b.5), paddingLength: b.6)
    }

    /// Appends the 8 header bytes (the reserved byte is zero) to `buffer`.
    @inlinable
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(version)
        buffer.append(type)
        buffer.append(UInt8(truncatingIfNeeded: requestID >> 8))
        buffer.append(UInt8(truncatingIfNeeded: requestID))
        buffer.append(UInt8(truncatingIfNeeded: contentLength >> 8))
        buffer.append(UInt8(truncatingIfNeeded: contentLength))
        buffer.append(paddingLength)
        buffer.append(0)
    }

    /// The 8 header bytes.
    public func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(RecordHeader.size)
        encode(into: &out)
        return out
    }
}

/// The 8-byte body of BEGIN_REQUEST: role, flags and five reserved bytes.
public struct BeginRequestBody: Sendable, Equatable {
    public static let size = 8
    /// The raw role; `Role(rawValue:)` is nil for a role FastCGI 1.0 does not define.
    public var role: UInt16
    public var flags: UInt8

    public init(role: UInt16, flags: UInt8) {
        self.role = role
        self.flags = flags
    }

    public init(role: Role, keepConnection: Bool) {
        self.init(role: role.rawValue, flags: keepConnection ? fcgiKeepConn : 0)
    }

    public var keepConnection: Bool { flags & fcgiKeepConn != 0 }

    /// Decodes the body; nil unless `bytes` holds exactly 8 bytes.
    public static func decode<C: Collection<UInt8>>(_ bytes: C) -> BeginRequestBody? {
        guard bytes.count == size else { return nil }
        var i = bytes.startIndex
        let hi = bytes[i]; bytes.formIndex(after: &i)
        let lo = bytes[i]; bytes.formIndex(after: &i)
        return BeginRequestBody(role: UInt16(hi) << 8 | UInt16(lo), flags: bytes[i])
    }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(UInt8(truncatingIfNeeded: role >> 8))
        buffer.append(UInt8(truncatingIfNeeded: role))
        buffer.append(flags)
        buffer.append(contentsOf: repeatElement(0, count: 5))
    }
}

/// The 8-byte body of END_REQUEST: the application's exit status and the protocol status.
public struct EndRequestBody: Sendable, Equatable {
    public static let size = 8
    public var appStatus: UInt32
    /// Raw, so a peer's unknown status can be reported; `ProtocolStatus(rawValue:)` names it.
    public var protocolStatus: UInt8

    public init(appStatus: UInt32, protocolStatus: ProtocolStatus) {
        self.appStatus = appStatus
        self.protocolStatus = protocolStatus.rawValue
    }

    public init(appStatus: UInt32, rawProtocolStatus: UInt8) {
        self.appStatus = appStatus
        self.protocolStatus = rawProtocolStatus
    }

    /// Decodes the body; nil unless `bytes` holds exactly 8 bytes.
    public static func decode<C: Collection<UInt8>>(_ bytes: C) -> EndRequestBody? {
        guard bytes.count == size else { return nil }
        var status: UInt32 = 0
        var i = bytes.startIndex
        for _ in 0..<4 {
            status = status << 8 | UInt32(bytes[i])
            bytes.formIndex(after: &i)
        }
        return EndRequestBody(appStatus: status, rawProtocolStatus: bytes[i])
    }

    public func encode(into buffer: inout [UInt8]) {
        buffer.append(UInt8(truncatingIfNeeded: appStatus >> 24))
        buffer.append(UInt8(truncatingIfNeeded: appStatus >> 16))
        buffer.append(UInt8(truncatingIfNeeded: appStatus >> 8))
        buffer.append(UInt8(truncatingIfNeeded: appStatus))
        buffer.append(protocolStatus)
        buffer.append(contentsOf: repeatElement(0, count: 3))
    }
}

/// Framing helpers shared by the parser, the writer and the client.
public enum Records {
    /// Appends one record with `content` (at most 65535 bytes) and no padding.
    public static func append(
        type: UInt8, requestID: UInt16, content: UnsafeRawBufferPointer, to buffer: inout [UInt8]
    ) {
        precondition(content.count <= fcgiMaxContentLength, "record content over 65535 bytes")
        RecordHeader(type: type, requestID: requestID, contentLength: UInt16(content.count)).encode(into: &buffer)
        buffer.append(contentsOf: content)
    }

    /// Appends one record with `content` (at most 65535 bytes) and no padding.
    public static func append(type: RecordType, requestID: UInt16, content: [UInt8], to buffer: inout [UInt8]) {
        content.withUnsafeBytes { append(type: type.rawValue, requestID: requestID, content: $0, to: &buffer) }
    }

    /// Appends a whole stream: `content` split into records of at most 65535 bytes, then the
    /// empty record that ends the stream.
    public static func appendStream(type: RecordType, requestID: UInt16, content: [UInt8], to buffer: inout [UInt8]) {
        content.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = min(fcgiMaxContentLength, raw.count - offset)
                append(type: type.rawValue, requestID: requestID,
                       content: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + n]), to: &buffer)
                offset += n
            }
        }
        RecordHeader(type: type, requestID: requestID, contentLength: 0).encode(into: &buffer)
    }

    /// A framed BEGIN_REQUEST record.
    public static func beginRequest(requestID: UInt16, role: Role = .responder, keepConnection: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        RecordHeader(type: .beginRequest, requestID: requestID, contentLength: 8).encode(into: &out)
        BeginRequestBody(role: role, keepConnection: keepConnection).encode(into: &out)
        return out
    }

    /// A framed END_REQUEST record.
    public static func endRequest(
        requestID: UInt16, appStatus: UInt32 = 0, protocolStatus: ProtocolStatus = .requestComplete
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        appendEndRequest(requestID: requestID, appStatus: appStatus, protocolStatus: protocolStatus, to: &out)
        return out
    }

    public static func appendEndRequest(
        requestID: UInt16, appStatus: UInt32, protocolStatus: ProtocolStatus, to buffer: inout [UInt8]
    ) {
        RecordHeader(type: .endRequest, requestID: requestID, contentLength: 8).encode(into: &buffer)
        EndRequestBody(appStatus: appStatus, protocolStatus: protocolStatus).encode(into: &buffer)
    }

    /// A framed UNKNOWN_TYPE record (request id 0) naming `type`.
    public static func unknownType(_ type: UInt8) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        RecordHeader(type: .unknownType, requestID: 0, contentLength: 8).encode(into: &out)
        out.append(type)
        out.append(contentsOf: repeatElement(0, count: 7))
        return out
    }
}
