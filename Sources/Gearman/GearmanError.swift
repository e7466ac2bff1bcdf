/// What was wrong with bytes a Gearman peer sent (binary packets or admin text). Each case
/// names one rule of the protocol or one of our limits; `description` is a log line.
public enum GearmanError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The first four bytes of a packet are neither `\0REQ` nor `\0RES` (text, or a stream
    /// that lost its framing). `bytes` are the four bytes read.
    case badMagic(bytes: [UInt8])
    /// A `\0REQ` packet where a `\0RES` was expected, or the other way round.
    case unexpectedMagic(request: Bool)
    /// A type number no Gearman packet has (0, 5, past 42).
    case unknownType(UInt32)
    /// A known type sent the wrong way (a request type in a response, or the reverse).
    case wrongDirection(GearmanPacketType)
    /// The header announces more data than `GearmanLimits.maxPacketSize`: refused before any
    /// of it is buffered.
    case packetTooLarge(size: UInt32, limit: Int)
    /// The data holds fewer NUL separators than the type has arguments.
    case missingArguments(GearmanPacketType, expected: Int, found: Int)
    /// A type that takes no arguments came with data.
    case unexpectedData(GearmanPacketType, size: Int)
    /// A job handle longer than the protocol's 64 bytes.
    case handleTooLong(length: Int)
    /// A numeric argument (WORK_STATUS, STATUS_RES, CAN_DO_TIMEOUT…) that is not a decimal number.
    case invalidNumber(GearmanPacketType, argument: Int)
    /// A packet of a type the reader at hand does not take (a client given JOB_ASSIGN).
    case unexpectedPacket(GearmanPacketType)
    /// The stream ended inside a packet or admin line; `buffered` bytes were left over.
    case truncated(buffered: Int)
    /// An admin response line longer than `GearmanLimits.maxAdminLine`, or a list with more
    /// lines than `GearmanLimits.maxAdminLines`.
    case adminResponseTooLarge(limit: Int)
    /// An admin line that does not have the shape of its command's answer.
    case malformedAdminLine(String)
    /// The server answered an admin command with `ERR code message`.
    case adminError(code: String, message: String)

    public var description: String {
        switch self {
        case .badMagic(let b):
            return "Gearman: bad packet magic \(b.map { String($0, radix: 16) }) (want \\0REQ or \\0RES)"
        case .unexpectedMagic(let request):
            return "Gearman: got a \(request ? "request (\\0REQ)" : "response (\\0RES)") packet where the other kind was expected"
        case .unknownType(let t): return "Gearman: unknown packet type \(t)"
        case .wrongDirection(let t): return "Gearman: \(t) packet sent the wrong way"
        case .packetTooLarge(let size, let limit):
            return "Gearman: packet of \(size) bytes exceeds the limit of \(limit)"
        case .missingArguments(let t, let expected, let found):
            return "Gearman: \(t) needs \(expected) arguments, the data holds \(found)"
        case .unexpectedData(let t, let size): return "Gearman: \(t) takes no arguments but came with \(size) bytes"
        case .handleTooLong(let n): return "Gearman: job handle of \(n) bytes (the protocol allows 64)"
        case .invalidNumber(let t, let i): return "Gearman: \(t) argument \(i + 1) is not a number"
        case .unexpectedPacket(let t): return "Gearman: unexpected \(t) packet"
        case .truncated(let n): return "Gearman: connection closed inside a packet (\(n) bytes buffered)"
        case .adminResponseTooLarge(let limit): return "Gearman: admin response exceeds \(limit)"
        case .malformedAdminLine(let line): return "Gearman: malformed admin line '\(line.prefix(120))'"
        case .adminError(let code, let message): return "Gearman admin: ERR \(code) \(message)"
        }
    }
}

/// Bounds on what a peer can make us buffer.
public struct GearmanLimits: Sendable, Equatable {
    /// The most data bytes one packet may announce. Default 64 MiB: well above any job a
    /// trigger or web request queues, and far below what would exhaust a worker.
    public var maxPacketSize: Int
    /// The longest admin response line. Default 64 KiB (a `workers` line lists every function).
    public var maxAdminLine: Int
    /// The most lines of one admin list. Default 100,000.
    public var maxAdminLines: Int

    public init(maxPacketSize: Int = 64 * 1024 * 1024, maxAdminLine: Int = 64 * 1024, maxAdminLines: Int = 100_000) {
        self.maxPacketSize = maxPacketSize
        self.maxAdminLine = maxAdminLine
        self.maxAdminLines = maxAdminLines
    }
}
