/// What can go wrong talking to Redis. `server` is Redis refusing one command (the connection
/// is fine); every other case leaves the connection closed: reconnect.
public enum RESPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `host:port` that is not one.
    case invalidAddress(String)
    /// getaddrinfo failed for the host (its EAI code).
    case resolve(host: String, code: Int32)
    /// A socket call failed: the call and errno.
    case system(call: String, errno: Int32)
    /// No answer (or no room to send) within the connection's timeout.
    case timeout
    /// Redis closed the connection.
    case closed
    /// Bytes that are not RESP.
    case protocolViolation(String)
    /// A reply over the parser's limits.
    case tooLarge(String)
    /// An error reply (`-ERR …`, `-NOSCRIPT …`).
    case server(String)
    /// A reply of another type than the command has.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .invalidAddress(let a): return "invalid Redis address '\(a)' (want host:port)"
        case .resolve(let host, let code): return "cannot resolve '\(host)' (getaddrinfo \(code))"
        case .system(let call, let e): return "\(call) failed: errno \(e)"
        case .timeout: return "Redis did not answer in time"
        case .closed: return "Redis closed the connection"
        case .protocolViolation(let what): return "RESP protocol violation: \(what)"
        case .tooLarge(let what): return "RESP reply too large: \(what)"
        case .server(let message): return "Redis: \(message)"
        case .unexpectedReply(let what): return "unexpected Redis reply: \(what)"
        }
    }

    /// Whether the connection is gone (reconnect and try again) rather than the command refused.
    public var isConnectionLost: Bool {
        switch self {
        case .server, .unexpectedReply, .invalidAddress: return false
        default: return true
        }
    }
}
