/// A response header the server refuses to send. The CGI head is parsed by the web server
/// line by line: a CR or LF in a value (often taken from user input: a `Location`, a cookie)
/// would start a header or a body of the attacker's choosing, and a NUL truncates it in C
/// parsers. Names must be RFC 9110 tokens for the same reason.
package struct InvalidHeader: Error, Equatable, Sendable, CustomStringConvertible {
    package enum Reason: Sendable, Equatable {
        case emptyName
        case nameNotAToken
        case controlCharacterInValue
    }

    package let name: String
    package let reason: Reason

    package var description: String {
        switch reason {
        case .emptyName: return "response header with an empty name refused"
        case .nameNotAToken: return "response header name '\(name)' refused: it must be a token (letters, digits and !#$%&'*+-.^_`|~)"
        case .controlCharacterInValue: return "response header '\(name)' refused: its value contains CR, LF or NUL"
        }
    }

    /// Checks a header before it is stored; walks the UTF-8 bytes, no allocation.
    @inline(__always)
    package static func check(_ name: String, _ value: String) throws(InvalidHeader) {
        if name.isEmpty { throw InvalidHeader(name: name, reason: .emptyName) }
        guard allBytes(of: name, isTokenByte) else { throw InvalidHeader(name: name, reason: .nameNotAToken) }
        guard allBytes(of: value, { $0 != 0x0D && $0 != 0x0A && $0 != 0 }) else {
            throw InvalidHeader(name: name, reason: .controlCharacterInValue)
        }
    }

    /// Whether every UTF-8 byte of `string` passes: over its contiguous storage when it has
    /// one (every native string), which is several times cheaper than the view's iterator.
    @inline(__always)
    static func allBytes(of string: String, _ test: (UInt8) -> Bool) -> Bool {
        string.utf8.withContiguousStorageIfAvailable { $0.allSatisfy(test) } ?? string.utf8.allSatisfy(test)
    }

    /// RFC 9110 `tchar`.
    @inline(__always)
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}
