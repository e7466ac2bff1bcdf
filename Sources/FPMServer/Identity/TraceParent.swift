/// A W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/), read
/// strictly: anything that is not exactly the grammar is refused, and the server starts a new
/// trace instead of passing on a malformed or forged one.
///
/// `version "-" trace-id "-" parent-id "-" trace-flags`, all lowercase hex:
/// * version `00`: exactly 55 characters; `ff` is invalid; a later version is read as 00 when
///   it is at least 55 characters and the 56th, if any, is `-` (the spec's forward
///   compatibility rule), keeping only the `sampled` flag;
/// * trace-id: 32 hex digits, not all zero; parent-id: 16 hex digits, not all zero.
package struct TraceParent: Sendable, Equatable, Hashable {
    /// The trace id's first and last 8 bytes.
    package var traceIDHigh: UInt64
    package var traceIDLow: UInt64
    /// The caller's span (the `parent-id` field).
    package var parentID: UInt64
    package var flags: UInt8

    package static let sampledFlag: UInt8 = 0x01
    /// The length of a version-00 header.
    package static let length = 55

    package init(traceIDHigh: UInt64, traceIDLow: UInt64, parentID: UInt64, flags: UInt8) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.parentID = parentID
        self.flags = flags
    }

    /// Parses a header value; nil when it is not a valid `traceparent`.
    package init?(_ value: String) {
        var value = value
        guard let parsed = value.withUTF8({ TraceParent.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    /// Parses a header value's bytes in place (no allocation); nil when invalid.
    package static func parse(_ bytes: UnsafeRawBufferPointer) -> TraceParent? {
        guard bytes.count >= length,
              bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-"),
              let version = hex(bytes, 0, 2), version != 0xFF,
              let high = hex(bytes, 3, 16), let low = hex(bytes, 19, 16), high | low != 0,
              let parent = hex(bytes, 36, 16), parent != 0,
              let flags = hex(bytes, 53, 2)
        else { return nil }
        if version == 0 {
            guard bytes.count == length else { return nil }
            return TraceParent(traceIDHigh: high, traceIDLow: low, parentID: parent, flags: UInt8(flags))
        }
        guard bytes.count == length || bytes[length] == UInt8(ascii: "-") else { return nil }
        return TraceParent(traceIDHigh: high, traceIDLow: low, parentID: parent, flags: UInt8(flags) & sampledFlag)
    }

    /// `count` lowercase hex digits at `offset` (at most 16); nil for anything else, uppercase
    /// included, as the spec requires.
    @inline(__always)
    static func hex(_ bytes: UnsafeRawBufferPointer, _ offset: Int, _ count: Int) -> UInt64? {
        var value: UInt64 = 0
        for i in offset..<(offset + count) {
            let c = bytes[i]
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c &- UInt8(ascii: "a") &+ 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// The header in version 00.
    package var header: String {
        var out: [UInt8] = []
        out.reserveCapacity(TraceParent.length)
        out.append(contentsOf: "00-".utf8)
        TraceParent.appendHex(traceIDHigh, digits: 16, to: &out)
        TraceParent.appendHex(traceIDLow, digits: 16, to: &out)
        out.append(UInt8(ascii: "-"))
        TraceParent.appendHex(parentID, digits: 16, to: &out)
        out.append(UInt8(ascii: "-"))
        TraceParent.appendHex(UInt64(flags), digits: 2, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `digits` lowercase hex digits of `value`.
    @inline(__always)
    package static func appendHex(_ value: UInt64, digits: Int, to out: inout [UInt8]) {
        var shift = (digits - 1) * 4
        while shift >= 0 {
            out.append(hexDigit(UInt8(truncatingIfNeeded: value >> UInt64(shift)) & 0xF))
            shift -= 4
        }
    }

    @inline(__always)
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ nibble &- 10
    }

    /// Writes `digits` lowercase hex digits of `value` at `base` (no allocation).
    @inline(__always)
    package static func writeHex(_ value: UInt64, digits: Int, to base: UnsafeMutableRawPointer) {
        for i in 0..<digits {
            let nibble = UInt8(truncatingIfNeeded: value >> UInt64((digits - 1 - i) * 4)) & 0xF
            base.storeBytes(of: hexDigit(nibble), toByteOffset: i, as: UInt8.self)
        }
    }
}
