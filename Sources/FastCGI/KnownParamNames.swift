// The CGI names a server looks up on every request, recognised once while the params are
// indexed, so that each later lookup of one is a table read instead of a scan of every pair.

/// The well-known names and where each one's last occurrence is in a request's index.
///
/// A name is recognised by its length and a byte or two, then confirmed in two 8-byte
/// compares: a few instructions per pair while indexing, against a scan per lookup, of which
/// a worker makes a dozen per request (the scoreboard, the router, the status pages).
@usableFromInline
struct KnownParamNames: Sendable {
    static let slotCount = 20

    /// The name of each slot (5 to 15 bytes); a switch, not a global array, so that the check
    /// after each match costs no lazy-global access.
    @inline(__always)
    static func name(_ slot: Int) -> StaticString {
        switch slot {
        case 0: return "REQUEST_METHOD"
        case 1: return "SCRIPT_NAME"
        case 2: return "PATH_INFO"
        case 3: return "QUERY_STRING"
        case 4: return "REQUEST_URI"
        case 5: return "SCRIPT_FILENAME"
        case 6: return "PATH_TRANSLATED"
        case 7: return "CONTENT_LENGTH"
        case 8: return "CONTENT_TYPE"
        case 9: return "REMOTE_USER"
        case 10: return "DOCUMENT_ROOT"
        case 11: return "REMOTE_ADDR"
        case 12: return "REMOTE_PORT"
        case 13: return "SERVER_NAME"
        case 14: return "SERVER_PORT"
        case 15: return "SERVER_ADDR"
        case 16: return "SERVER_PROTOCOL"
        case 17: return "HTTPS"
        case 18: return "HTTP_HOST"
        default: return "HTTP_COOKIE"
        }
    }

    /// Every name, in slot order.
    static var names: [String] { (0..<slotCount).map { "\(name($0))" } }

    /// Slot value: the name is not in the request.
    @usableFromInline static let absent: UInt16 = .max
    /// Slot value: the entry's index does not fit a slot (a request of over 65534 pairs): scan.
    @usableFromInline static let unindexed: UInt16 = .max - 1

    /// The slot of `name`, or nil when it is not a well-known name: its length and one or two
    /// bytes pick the only candidate, whose bytes are then compared in two 8-byte words.
    @usableFromInline @inline(__always)
    static func slot(of name: UnsafeRawBufferPointer) -> Int? {
        let n = name.count
        guard n >= 5, n <= 15 else { return nil }
        @inline(__always) func at(_ i: Int) -> UInt8 { name.load(fromByteOffset: i, as: UInt8.self) }
        let slot: Int
        switch n {
        case 5: slot = 17  // HTTPS
        case 9: slot = at(0) == UInt8(ascii: "P") ? 2 : 18  // PATH_INFO, HTTP_HOST
        case 11:
            switch at(0) {
            case UInt8(ascii: "S"):  // SCRIPT_NAME, SERVER_NAME, SERVER_PORT, SERVER_ADDR
                if at(1) == UInt8(ascii: "C") { slot = 1 } else {
                    switch at(7) {
                    case UInt8(ascii: "N"): slot = 13
                    case UInt8(ascii: "P"): slot = 14
                    default: slot = 15
                    }
                }
            case UInt8(ascii: "R"):  // REQUEST_URI, REMOTE_USER, REMOTE_ADDR, REMOTE_PORT
                if at(2) == UInt8(ascii: "Q") { slot = 4 } else {
                    switch at(7) {
                    case UInt8(ascii: "U"): slot = 9
                    case UInt8(ascii: "A"): slot = 11
                    default: slot = 12
                    }
                }
            case UInt8(ascii: "H"): slot = 19  // HTTP_COOKIE
            default: return nil
            }
        case 12: slot = at(0) == UInt8(ascii: "Q") ? 3 : 8  // QUERY_STRING, CONTENT_TYPE
        case 13: slot = 10  // DOCUMENT_ROOT
        case 14: slot = at(0) == UInt8(ascii: "R") ? 0 : 7  // REQUEST_METHOD, CONTENT_LENGTH
        case 15:
            switch at(0) {
            case UInt8(ascii: "S"): slot = at(1) == UInt8(ascii: "C") ? 5 : 16  // SCRIPT_FILENAME, SERVER_PROTOCOL
            case UInt8(ascii: "P"): slot = 6  // PATH_TRANSLATED
            default: return nil
            }
        default: return nil
        }
        return equal(name, Self.name(slot)) ? slot : nil
    }

    @inline(__always)
    static func equal(_ a: UnsafeRawBufferPointer, _ b: StaticString) -> Bool {
        let n = b.utf8CodeUnitCount
        guard a.count == n else { return false }
        let bytes = UnsafeRawPointer(b.utf8Start)
        if n >= 8 {
            return a.loadUnaligned(as: UInt64.self) == bytes.loadUnaligned(as: UInt64.self)
                && a.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == bytes.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        for i in 0..<n where a.load(fromByteOffset: i, as: UInt8.self) != bytes.load(fromByteOffset: i, as: UInt8.self) { return false }
        return true
    }

    /// Each slot's entry index, or `absent`.
    @usableFromInline var slots: (UInt64, UInt64, UInt64, UInt64, UInt64) =
        (.max, .max, .max, .max, .max)

    @usableFromInline init() {}

    /// The entry index recorded for `slot`.
    @inlinable
    func entry(_ slot: Int) -> UInt16 {
        withUnsafeBytes(of: slots) { $0.load(fromByteOffset: slot * 2, as: UInt16.self) }
    }

    /// Records that entry `index` has the name of `slot` (a later occurrence replaces it).
    mutating func record(_ slot: Int, entry index: Int) {
        let value = index < Int(Self.unindexed) ? UInt16(index) : Self.unindexed
        withUnsafeMutableBytes(of: &slots) { $0.storeBytes(of: value, toByteOffset: slot * 2, as: UInt16.self) }
    }
}

/// A well-known CGI name, for lookups by its slot (`FastCGIParams.valueRange(_:)`,
/// `withValue(_:_:)`): a table read, without classifying the name's bytes on every call.
public enum KnownParam: Int, Sendable {
    case requestMethod = 0, scriptName, pathInfo, queryString, requestURI, scriptFilename, pathTranslated,
         contentLength, contentType, remoteUser, documentRoot, remoteAddr, remotePort, serverName, serverPort,
         serverAddr, serverProtocol, https, httpHost, httpCookie
}
