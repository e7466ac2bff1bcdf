/// What was wrong with the bytes a FastCGI peer sent. Each case names one rule of the protocol
/// (or of this server's limits); `description` is a log line.
public enum FastCGIError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A record header's version byte is not 1.
    case unsupportedVersion(UInt8)
    /// A name-value pair's length, name or value runs past the end of its stream or record.
    /// `offset` is where the pair starts inside that stream.
    case truncatedNameValuePair(offset: Int)
    /// The PARAMS stream of one request grew beyond `ParserLimits.maxParamsBytes`.
    case paramsTooLarge(limit: Int)
    /// The PARAMS stream of one request holds more pairs than `ParserLimits.maxParamsCount`.
    case tooManyParams(limit: Int)
    /// A PARAMS record arrived after the empty PARAMS record that ended the stream.
    case paramsAfterEnd(requestID: UInt16)
    /// A STDIN or DATA record arrived before the PARAMS stream ended.
    case streamBeforeParamsEnd(type: RecordType, requestID: UInt16)
    /// A STDIN or DATA record arrived after the empty record that ended that stream.
    case streamAfterEnd(type: RecordType, requestID: UInt16)
    /// A record for a request id that is neither the active request nor a new BEGIN_REQUEST
    /// (`active` is nil when no request is active).
    case unexpectedRequestID(type: UInt8, requestID: UInt16, active: UInt16?)
    /// A BEGIN_REQUEST whose body is not 8 bytes long.
    case invalidBeginRequestBody(length: Int)
    /// A second BEGIN_REQUEST for the request that is already active.
    case duplicateBeginRequest(requestID: UInt16)
    /// A record with a non-zero request id whose type an application never receives: one
    /// only applications send (STDOUT, STDERR, END_REQUEST, GET_VALUES_RESULT, UNKNOWN_TYPE)
    /// or one FastCGI 1.0 does not define.
    case unexpectedRecordType(type: UInt8, requestID: UInt16)
    /// A management record type (GET_VALUES) with a non-zero request id.
    case managementRecordWithRequestID(type: UInt8, requestID: UInt16)
    /// A record that belongs to a request (BEGIN_REQUEST, ABORT_REQUEST, PARAMS, STDIN, DATA)
    /// with request id 0, the id of management records.
    case requestRecordWithNullID(type: UInt8)
    /// More management or ignorable records arrived with no request active than
    /// `ParserLimits.maxRecordsBeforeBegin` allows.
    case tooManyRecordsBeforeBegin(limit: Int)
    /// The stream ended (EOF) in the middle of a record: `buffered` bytes were left over.
    case truncatedRecord(buffered: Int)
    /// An END_REQUEST (read by the client) whose body is not 8 bytes long.
    case invalidEndRequestBody(length: Int)

    public var description: String {
        switch self {
        case .unsupportedVersion(let v):
            return "FastCGI: unsupported protocol version \(v) (only 1 exists)"
        case .truncatedNameValuePair(let offset):
            return "FastCGI: name-value pair at offset \(offset) runs past the end of its stream"
        case .paramsTooLarge(let limit):
            return "FastCGI: request params exceed \(limit) bytes"
        case .tooManyParams(let limit):
            return "FastCGI: request has more than \(limit) params"
        case .paramsAfterEnd(let id):
            return "FastCGI: PARAMS record for request \(id) after its params stream ended"
        case .streamBeforeParamsEnd(let type, let id):
            return "FastCGI: \(type.name) record for request \(id) before its params stream ended"
        case .streamAfterEnd(let type, let id):
            return "FastCGI: \(type.name) record for request \(id) after that stream ended"
        case .unexpectedRequestID(let type, let id, let active):
            let a = active.map { "request \($0) is active" } ?? "no request is active"
            return "FastCGI: \(RecordType.name(of: type)) record for request \(id) while \(a)"
        case .invalidBeginRequestBody(let length):
            return "FastCGI: BEGIN_REQUEST body is \(length) bytes, not 8"
        case .duplicateBeginRequest(let id):
            return "FastCGI: second BEGIN_REQUEST for active request \(id)"
        case .unexpectedRecordType(let type, let id):
            return "FastCGI: \(RecordType.name(of: type)) record (request \(id)) is not one an application receives"
        case .managementRecordWithRequestID(let type, let id):
            return "FastCGI: management record \(RecordType.name(of: type)) with request id \(id), not 0"
        case .requestRecordWithNullID(let type):
            return "FastCGI: \(RecordType.name(of: type)) record with request id 0 (the management id)"
        case .tooManyRecordsBeforeBegin(let limit):
            return "FastCGI: more than \(limit) records with no request active"
        case .truncatedRecord(let buffered):
            return "FastCGI: connection closed inside a record (\(buffered) bytes left over)"
        case .invalidEndRequestBody(let length):
            return "FastCGI: END_REQUEST body is \(length) bytes, not 8"
        }
    }
}

extension RecordType {
    /// The specification's name, e.g. `BEGIN_REQUEST`.
    public var name: String {
        switch self {
        case .beginRequest: return "BEGIN_REQUEST"
        case .abortRequest: return "ABORT_REQUEST"
        case .endRequest: return "END_REQUEST"
        case .params: return "PARAMS"
        case .stdin: return "STDIN"
        case .stdout: return "STDOUT"
        case .stderr: return "STDERR"
        case .data: return "DATA"
        case .getValues: return "GET_VALUES"
        case .getValuesResult: return "GET_VALUES_RESULT"
        case .unknownType: return "UNKNOWN_TYPE"
        }
    }

    /// The name of a raw type value, `type 42` for one the specification does not define.
    public static func name(of raw: UInt8) -> String {
        RecordType(rawValue: raw)?.name ?? "type \(raw)"
    }
}
