/// Encodes commands as RESP arrays of bulk strings, the one form Redis requires of clients.
/// Arguments are bytes: a payload goes out as it came in, with no escaping and no copy through
/// String.
public enum RESPEncoder {
    /// Appends `*N\r\n` and `$len\r\narg\r\n` for each argument to `out`.
    public static func encode(_ arguments: [[UInt8]], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "*"))
        appendDecimal(arguments.count, to: &out)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            appendDecimal(argument.count, to: &out)
            out.append(contentsOf: argument)
            out.append(contentsOf: crlf)
        }
    }

    public static func encode(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(arguments.reduce(16) { $0 + $1.count + 16 })
        encode(arguments, into: &out)
        return out
    }

    private static let crlf: [UInt8] = [13, 10]

    /// `n` in decimal followed by CRLF (a small String: no heap allocation).
    private static func appendDecimal(_ n: Int, to out: inout [UInt8]) {
        out.append(contentsOf: String(n).utf8)
        out.append(contentsOf: crlf)
    }
}
