import FPMSystem

/// Byte-level writers shared by the status page, the access log and the error log.
///
/// Everything appends to a caller-owned `[UInt8]`, so a worker can format a log line without
/// building intermediate strings. Numbers are written the way C's `printf` writes them
/// (`%d`, `%.2f`, `%.3f`), because php-fpm's outputs are defined by `printf`.
package enum TextRendering {
    // MARK: Integers

    /// Appends `value` in decimal, like `%d`/`%lu`.
    /// Inlinable: the access log calls it per request from FPMServer, and a generic across a
    /// module boundary would otherwise run unspecialized.
    @inlinable @inline(__always)
    package static func appendDecimal<T: BinaryInteger>(_ value: T, to buffer: inout [UInt8]) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
            appendUnsigned(UInt64(value.magnitude), to: &buffer)
        } else {
            appendUnsigned(UInt64(value), to: &buffer)
        }
    }

    @inlinable
    package static func appendUnsigned(_ value: UInt64, to buffer: inout [UInt8]) {
        let start = buffer.endIndex
        var v = value
        repeat {
            buffer.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10))
            v /= 10
        } while v != 0
        buffer[start..<buffer.endIndex].reverse()
    }

    /// Appends `value` zero-padded to `width` digits (`%0*u`).
    @inlinable
    package static func appendPadded(_ value: UInt64, width: Int, to buffer: inout [UInt8]) {
        var digits = 1
        var v = value
        while v >= 10 { v /= 10; digits += 1 }
        if digits < width { buffer.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits)) }
        appendUnsigned(value, to: &buffer)
    }

    // MARK: Fixed-point doubles

    private static let powersOfTen: [Double] = [1, 10, 100, 1000, 10000, 100000, 1000000]

    /// Appends `value` with `decimals` digits after the point, exactly as glibc's `%.Nf` does:
    /// the exact binary value is rounded half-to-even. Done without `printf` so that the access
    /// log needs no allocation; falls back to `vsnprintf` for magnitudes where the fast path
    /// cannot be exact.
    package static func appendFixed(_ value: Double, decimals: Int, to buffer: inout [UInt8]) {
        precondition(decimals >= 0 && decimals < powersOfTen.count)
        guard value.isFinite else {
            if value.sign == .minus { buffer.append(UInt8(ascii: "-")) }
            buffer.append(contentsOf: value.isNaN ? Array("nan".utf8) : Array("inf".utf8))
            return
        }
        var v = value
        if v.sign == .minus {
            buffer.append(UInt8(ascii: "-"))
            v = -v
        }
        guard v < 1e15 else {
            appendFixedWithPrintf(v, decimals: decimals, to: &buffer)
            return
        }
        let scale = powersOfTen[decimals]
        var integral = v.rounded(.down)
        let fraction = v - integral  // exact: both share v's ulp
        let product = fraction * scale
        // The rounding error of `product`, exactly (a fused multiply-add has a single rounding).
        let error = (-product).addingProduct(fraction, scale)
        var digits = product.rounded(.down)
        let rest = product - digits  // exact: product < 2^52
        let roundUp: Bool
        if rest > 0.5 {
            roundUp = true
        } else if rest < 0.5 {
            roundUp = false
        } else if error != 0 {
            roundUp = error > 0
        } else {
            roundUp = UInt64(digits) % 2 == 1 || (decimals == 0 && UInt64(integral) % 2 == 1)
        }
        if roundUp { digits += 1 }
        if digits >= scale {
            digits -= scale
            integral += 1
        }
        appendUnsigned(UInt64(integral), to: &buffer)
        if decimals > 0 {
            buffer.append(UInt8(ascii: "."))
            appendPadded(UInt64(digits), width: decimals, to: &buffer)
        }
    }

    private static func appendFixedWithPrintf(_ value: Double, decimals: Int, to buffer: inout [UInt8]) {
        CFormatting.appendFixed(value, decimals: decimals, to: &buffer)
    }

    // MARK: Time

    /// php-fpm's status-page and access-log time: `27/Nov/2026:17:04:11 +0000`.
    package static let statusTimeFormat = "%d/%b/%Y:%H:%M:%S %z"
    /// php-fpm's error-log time: `27-Nov-2026 17:04:11`.
    package static let logTimeFormat = "%d-%b-%Y %H:%M:%S"

    /// Appends the local time of `epoch` formatted by `strftime(format)`. An expansion longer
    /// than 512 bytes (or an empty one) appends nothing, as `strftime` reports both as 0.
    package static func appendTime(epoch: Int, format: UnsafePointer<CChar>, to buffer: inout [UInt8]) {
        CFormatting.appendLocalTime(epoch: epoch, format: format, to: &buffer)
    }

    package static func appendTime(epoch: Int, format: String, to buffer: inout [UInt8]) {
        format.withCString { appendTime(epoch: epoch, format: $0, to: &buffer) }
    }

    /// `value` as `%.Nf` text, for log messages.
    package static func fixed(_ value: Double, decimals: Int) -> String {
        var buffer: [UInt8] = []
        appendFixed(value, decimals: decimals, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The local time of `epoch` formatted by `strftime(format)`.
    package static func time(epoch: Int, format: String) -> String {
        var buffer: [UInt8] = []
        appendTime(epoch: epoch, format: format, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    // MARK: Escaping

    /// JSON string contents as PHP's `json_encode` writes them with no flags: `"`, `\` and `/`
    /// are backslash-escaped, control characters use the short forms or `\u00XX`, and every
    /// non-ASCII scalar becomes `\uXXXX` (a surrogate pair above U+FFFF), lowercase hex.
    package static func appendJSONEscaped(_ string: String, to buffer: inout [UInt8]) {
        for scalar in string.unicodeScalars {
            let v = scalar.value
            switch v {
            case 0x22: buffer.append(contentsOf: [0x5C, 0x22])  // \"
            case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])  // \\
            case 0x2F: buffer.append(contentsOf: [0x5C, 0x2F])  // \/
            case 0x08: buffer.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: buffer.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x0A: buffer.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: buffer.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: buffer.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20: appendUnicodeEscape(UInt16(v), to: &buffer)
            case 0x20..<0x80: buffer.append(UInt8(v))
            case 0x80..<0x10000: appendUnicodeEscape(UInt16(v), to: &buffer)
            default:
                let u = v - 0x10000
                appendUnicodeEscape(UInt16(0xD800 + (u >> 10)), to: &buffer)
                appendUnicodeEscape(UInt16(0xDC00 + (u & 0x3FF)), to: &buffer)
            }
        }
    }

    private static func appendUnicodeEscape(_ unit: UInt16, to buffer: inout [UInt8]) {
        buffer.append(0x5C)
        buffer.append(UInt8(ascii: "u"))
        for shift in [12, 8, 4, 0] as [UInt16] {
            let nibble = UInt8(truncatingIfNeeded: (unit >> shift) & 0xF)
            buffer.append(nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10)
        }
    }

    /// Text for XML and XHTML, as php-fpm escapes it (`htmlspecialchars` with XML 1.0 rules):
    /// `&`, `<`, `>` and `"` become entities, `'` stays, and characters XML 1.0 forbids (C0
    /// controls other than tab, LF and CR; U+FFFE, U+FFFF) become U+FFFD, so the document
    /// stays well-formed.
    package static func appendXMLEscaped(_ string: String, to buffer: inout [UInt8]) {
        for scalar in string.unicodeScalars {
            switch scalar.value {
            case 0x26: buffer.append(contentsOf: "&amp;".utf8)
            case 0x3C: buffer.append(contentsOf: "&lt;".utf8)
            case 0x3E: buffer.append(contentsOf: "&gt;".utf8)
            case 0x22: buffer.append(contentsOf: "&quot;".utf8)
            case 0x09, 0x0A, 0x0D: buffer.append(UInt8(scalar.value))
            case 0..<0x20, 0xFFFE, 0xFFFF: buffer.append(contentsOf: [0xEF, 0xBF, 0xBD])
            default: buffer.append(contentsOf: UTF8View(scalar))
            }
        }
    }

    /// A label value or HELP text for OpenMetrics: `\`, newline and `"` are backslash-escaped.
    package static func appendOpenMetricsEscaped(_ string: String, to buffer: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case 0x5C: buffer.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: buffer.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x22: buffer.append(contentsOf: [0x5C, 0x22])
            default: buffer.append(byte)
            }
        }
    }

    /// The UTF-8 bytes of one scalar, without allocating.
    private struct UTF8View: Sequence {
        let scalar: Unicode.Scalar
        init(_ scalar: Unicode.Scalar) { self.scalar = scalar }
        func makeIterator() -> Unicode.UTF8.EncodedScalar.Iterator {
            Unicode.UTF8.encode(scalar)!.makeIterator()
        }
    }
}
