/// Encodes commands as RESP arrays of bulk strings, the one form Redis requires of clients.
/// Arguments are bytes: a payload goes out as it came in, with no escaping and no copy through
/// String.
public enum RESPEncoder {
    /// Appends `*N\r\n` and `$len\r\narg\r\n` for each argument to `out`.
    public static func encode(_ arguments: [[UInt8]], into out: inout [UInt8]) {
        appendArrayHeader(count: arguments.count, to: &out)
        for argument in arguments { appendBulk(argument, to: &out) }
    }

    /// `*N\r\n`: a command of `count` arguments follows (each one `appendBulk`).
    @inlinable
    public static func appendArrayHeader(count: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(count, to: &out)
    }

    /// `$len\r\nbytes\r\n`: one argument, from any bytes (a String's UTF-8 view, a buffer) with
    /// no array of its own. Inlinable: specialized in the caller's module for the collection it
    /// passes (unspecialized, its generic calls cost more than the copy they save).
    @inlinable
    public static func appendBulk(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "$"))
        appendDecimal(bytes.count, to: &out)
        out.append(contentsOf: bytes)
        out.append(contentsOf: crlf)
    }

    public static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(arguments.reduce(16) { $0 + $1.count + 16 })
        encode(arguments, into: &out)
        return out
    }

    @usableFromInline static let crlf: [UInt8] = [13, 10]

    /// `n` in decimal followed by CRLF (a small String: no heap allocation).
    @inlinable
    static func appendDecimal(_ n: Int, to out: inout [UInt8]) {
        out.append(contentsOf: String(n).utf8)
        out.append(contentsOf: crlf)
    }
}
