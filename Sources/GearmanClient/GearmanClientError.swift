import FPMSystem
import Gearman

/// Why a Gearman connection failed; system failures name the call and the errno.
public enum GearmanClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// getaddrinfo failed for `host`; `code` is its EAI_* result.
    case resolve(host: String, code: Int32)
    case system(call: String, errno: Int32)
    /// SO_RCVTIMEO/SO_SNDTIMEO (or the caller's deadline) ran out in `call`.
    case timedOut(call: String)
    /// The server closed the connection `during` something that needed an answer.
    case connectionClosed(during: String)
    /// The server sent bytes that are not valid Gearman, or a packet out of turn.
    case protocolError(GearmanError)
    /// The server answered with an ERROR packet (or an admin `ERR` line).
    case serverError(code: String, text: String)
    /// A function name, unique id or handle the protocol cannot carry (empty, a NUL inside, too long).
    case invalidArgument(String)
    case closed

    public var description: String {
        switch self {
        case .resolve(let host, let code): return "getaddrinfo(\(host)): \(ClientSocket.resolveMessage(code))"
        case .system(let call, let e): return "\(call): \(SystemError.message(for: e)) (errno \(e))"
        case .timedOut(let call): return "\(call): timed out"
        case .connectionClosed(let during): return "connection closed by the job server \(during)"
        case .protocolError(let e): return e.description
        case .serverError(let code, let text): return "job server error \(code): \(text)"
        case .invalidArgument(let why): return "invalid argument: \(why)"
        case .closed: return "connection already closed"
        }
    }

    /// The connection is unusable after this error: the caller reconnects (with
    /// `ReconnectBackoff`) rather than retrying on it.
    public var isConnectionLost: Bool {
        switch self {
        case .invalidArgument, .serverError: false
        default: true
        }
    }

    static func from(_ error: SystemError) -> GearmanClientError {
        error.isSocketTimeout ? .timedOut(call: error.call) : .system(call: error.call, errno: error.code)
    }

    static func from(_ error: GearmanError) -> GearmanClientError {
        if case .adminError(let code, let message) = error { return .serverError(code: code, text: message) }
        return .protocolError(error)
    }

    /// Checks a field that precedes others in a packet (function name, unique id): no NUL,
    /// `nonEmpty` when the protocol needs a value, at most `maxLength` bytes.
    static func check(_ field: String, _ what: String, nonEmpty: Bool, maxLength: Int = 512) throws(GearmanClientError) {
        let count = field.utf8.count
        if nonEmpty && count == 0 { throw .invalidArgument("empty \(what)") }
        if count > maxLength { throw .invalidArgument("\(what) longer than \(maxLength) bytes") }
        if !GearmanPacket.isValidField(field.utf8) { throw .invalidArgument("\(what) contains a NUL byte") }
    }
}
