/// One reply of Redis's serialization protocol (RESP2, what a connection speaks until it says
/// HELLO 3; this client never does).
public enum RESPValue: Equatable, Sendable {
    /// `+OK`
    case simpleString(String)
    /// `-ERR …`: the server refused the command; the connection stays usable.
    case error(String)
    /// `:42`
    case integer(Int64)
    /// `$5 hello`; nil for the null bulk string `$-1` (GET of a missing key).
    case bulkString([UInt8]?)
    /// `*2 …`; nil for the null array `*-1`.
    case array([RESPValue]?)

    /// The value as text, for the replies that carry one (simple and bulk strings).
    public var text: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let bytes?): return String(decoding: bytes, as: UTF8.self)
        default: return nil
        }
    }
}
