import FPMStatus
import FPMSystem

/// Why an `access.format` was refused. The messages are php-fpm's own wording, so a
/// configuration that fails there fails here with the same words.
package enum AccessLogFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `%Z`: a letter that is no token.
    case invalidToken(String)
    /// `%{x}f`: braces on a token that takes none (empty braces are accepted, as in php-fpm).
    case embraceNotAllowed(String)
    /// `%{x` with no `}` after it.
    case missingClosingEmbrace
    /// `%{x}` at the very end: braces with no token after them. php-fpm calls this a missing
    /// closing embrace too; the message here says what is actually missing.
    case missingTokenAfterEmbrace(String)
    /// `%e` or `%{}e`.
    case missingVariableName
    /// `%o` or `%{}o`.
    case missingHeaderName
    /// `%{foo}C`, `%{foo}d`, `%{foo}M`.
    case invalidModifier(token: String, modifier: String)

    package var message: String {
        switch self {
        case .invalidToken(let token):
            return "Invalid token in the access.format (%\(token))"
        case .embraceNotAllowed(let token):
            return "embrace is not allowed for modifier %\(token)"
        case .missingClosingEmbrace:
            return "missing closing embrace in the access.format"
        case .missingTokenAfterEmbrace(let text):
            return "missing token after the closing embrace in the access.format ('\(text)')"
        case .missingVariableName:
            return "the name of the environment variable must be set between embraces for %e"
        case .missingHeaderName:
            return "the name of the header must be set between embraces for %o"
        case .invalidModifier(let token, let modifier):
            let allowed: String
            switch token {
            case "C": allowed = "'total', 'user' or 'system'"
            case "d": allowed = "'seconds', 'milli', 'milliseconds', 'micro' or 'microseconds'"
            case "I": allowed = "'request', 'trace', 'span' or 'parent'"
            default: allowed = "'bytes', 'kilo', 'kilobytes', 'mega' or 'megabytes'"
            }
            return "only \(allowed) are allowed as a modifier for %\(token) ('\(modifier)')"
        }
    }

    package var description: String { message }
}

@inline(__always)
private func lowerASCII(_ byte: UInt8) -> UInt8 {
    byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
}

/// A compiled php-fpm `access.format`: parsed and validated once at configuration time, then
/// rendered per request into a caller-owned byte buffer.
///
/// Tokens, modifiers and error messages follow php-fpm 8.2 (checked against `php-fpm -t`):
/// `%%`, `%C` (`{user|system|total}`), `%d` (`{seconds|milli|milliseconds|mili|miliseconds|
/// micro|microseconds}`), `%{NAME}e`, `%f`, `%l`, `%m`, `%M` (`{bytes|kilo|kilobytes|mega|
/// megabytes}`), `%n`, `%{Name}o`, `%p`, `%P`, `%q`, `%Q`, `%r`, `%R`, `%s`, `%t`/`%T` (with an
/// optional `{strftime}` format), `%u`. Modifiers are case-insensitive, and `%{}` counts as no
/// modifier, as in php-fpm.
///
/// One token of swift-fpm's own, `%I`, the request's identity (``RequestIdentity``): `%I` or
/// `%{request}I` the request id (the client's `X-Request-Id`, else the trace id), `%{trace}I`
/// the W3C trace id, `%{span}I` this request's span id, `%{parent}I` the caller's span id from
/// `traceparent` (`-` when the trace started here). php-fpm has no such token (it refuses
/// `%I`), and a format without it resolves no identity.
///
/// Deliberate differences from php-fpm:
/// * **No silent truncation.** php-fpm cuts every line at 1024 bytes; here ``lineLimit`` is
///   nil (no limit) unless set, and ``render(_:into:)`` reports a cut so the caller can log it.
/// * A `%` at the very end is accepted and prints nothing, like php-fpm; `%{x}` at the end
///   (braces and no token) is refused with a message that names the problem (php-fpm reads
///   past the end of the string for an unclosed `%{`; here that is a clean error).
/// * `%o` matching is up to ``AccessLogRecord/responseHeader``; ``AccessLogRecord/headerLookup(_:)``
///   ignores case, where php-fpm does not.
package struct AccessLogFormat: Sendable, Equatable {
    /// php-fpm's format when `access.format` is not set.
    package static let defaultFormat = "%R - %u %t \"%m %r\" %s"

    /// The format as configured.
    package let source: String
    /// The longest line written, in bytes without the newline; nil for no limit. php-fpm's fixed
    /// limit is 1024.
    package var lineLimit: Int?

    let tokens: [Token]

    enum CPUPart: Sendable, Equatable { case user, system, total }
    enum DurationUnit: Sendable, Equatable { case seconds, milliseconds, microseconds }
    enum MemoryUnit: Sendable, Equatable { case bytes, kilobytes, megabytes }

    enum Token: Sendable, Equatable {
        case literal([UInt8])
        case cpu(CPUPart)
        case duration(DurationUnit)
        case parameter(String)
        case scriptFilename
        case contentLength
        case method
        case memory(MemoryUnit)
        case pool
        case responseHeader(String)
        case pid
        case ppid
        case queryString
        case querySeparator
        case requestURI
        case remoteAddr
        case status
        /// `%t` (start) or `%T` (end), with a NUL-terminated strftime format.
        case time(end: Bool, format: [CChar])
        case remoteUser
        case identity(IdentityPart)
    }

    enum IdentityPart: Sendable, Equatable { case request, trace, span, parent }

    /// Whether a line needs the request's identity (a `%I` token), so the writer resolves it
    /// only then.
    package var usesIdentity: Bool {
        tokens.contains { if case .identity = $0 { return true } else { return false } }
    }

    /// Whether a line shows the request's CPU or memory (`%C`, `%M`), so the worker samples
    /// them for every request rather than once per window (`RequestCost`).
    package var usesCost: Bool {
        tokens.contains {
            switch $0 {
            case .cpu, .memory: return true
            default: return false
            }
        }
    }

    /// Parses and validates `format`.
    package init(parsing format: String, lineLimit: Int? = nil) throws(AccessLogFormatError) {
        self.source = format
        self.lineLimit = lineLimit
        self.tokens = try AccessLogFormat.compile(Array(format.utf8))
    }

    /// The error message for `format`, or nil when php-fpm would accept it.
    package static func validate(_ format: String) -> String? {
        do {
            _ = try AccessLogFormat(parsing: format)
            return nil
        } catch {
            return error.message
        }
    }

    // MARK: Parsing

    private static func compile(_ bytes: [UInt8]) throws(AccessLogFormatError) -> [Token] {
        var tokens: [Token] = []
        var literal: [UInt8] = []
        func flush() {
            if !literal.isEmpty {
                tokens.append(.literal(literal))
                literal.removeAll()
            }
        }
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "%") else {
                literal.append(bytes[i])
                i += 1
                continue
            }
            let start = i
            i += 1
            guard i < bytes.count else { break }  // a trailing '%' prints nothing
            var modifier: [UInt8] = []
            if bytes[i] == UInt8(ascii: "{") {
                guard let close = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw .missingClosingEmbrace
                }
                modifier = Array(bytes[(i + 1)..<close])
                i = close + 1
                guard i < bytes.count else {
                    throw .missingTokenAfterEmbrace(String(decoding: bytes[start..<i], as: UTF8.self))
                }
            }
            let tokenLength = utf8Length(leadingByte: bytes[i], available: bytes.count - i)
            let tokenText = String(decoding: bytes[i..<(i + tokenLength)], as: UTF8.self)
            let letter = bytes[i]
            i += tokenLength
            let braced = !modifier.isEmpty
            let modifierText = String(decoding: modifier, as: UTF8.self)
            let lowered = String(decoding: modifier.map(lowerASCII), as: UTF8.self)

            let token: Token
            switch letter {
            case UInt8(ascii: "%"):
                guard !braced else { throw .embraceNotAllowed(tokenText) }
                literal.append(UInt8(ascii: "%"))
                continue
            case UInt8(ascii: "C"):
                switch lowered {
                case "", "total": token = .cpu(.total)
                case "user": token = .cpu(.user)
                case "system": token = .cpu(.system)
                default: throw .invalidModifier(token: tokenText, modifier: modifierText)
                }
            case UInt8(ascii: "d"):
                switch lowered {
                case "", "seconds": token = .duration(.seconds)
                case "milli", "milliseconds", "mili", "miliseconds": token = .duration(.milliseconds)
                case "micro", "microseconds": token = .duration(.microseconds)
                default: throw .invalidModifier(token: tokenText, modifier: modifierText)
                }
            case UInt8(ascii: "e"):
                guard braced else { throw .missingVariableName }
                token = .parameter(modifierText)
            case UInt8(ascii: "M"):
                switch lowered {
                case "", "bytes": token = .memory(.bytes)
                case "kilo", "kilobytes": token = .memory(.kilobytes)
                case "mega", "megabytes": token = .memory(.megabytes)
                default: throw .invalidModifier(token: tokenText, modifier: modifierText)
                }
            case UInt8(ascii: "o"):
                guard braced else { throw .missingHeaderName }
                token = .responseHeader(modifierText)
            case UInt8(ascii: "I"):
                switch lowered {
                case "", "request": token = .identity(.request)
                case "trace": token = .identity(.trace)
                case "span": token = .identity(.span)
                case "parent": token = .identity(.parent)
                default: throw .invalidModifier(token: tokenText, modifier: modifierText)
                }
            case UInt8(ascii: "t"), UInt8(ascii: "T"):
                let pattern = braced ? modifier : Array(TextRendering.statusTimeFormat.utf8)
                token = .time(end: letter == UInt8(ascii: "T"), format: pattern.map { CChar(bitPattern: $0) } + [0])
            default:
                let simple: Token
                switch letter {
                case UInt8(ascii: "f"): simple = .scriptFilename
                case UInt8(ascii: "l"): simple = .contentLength
                case UInt8(ascii: "m"): simple = .method
                case UInt8(ascii: "n"): simple = .pool
                case UInt8(ascii: "p"): simple = .pid
                case UInt8(ascii: "P"): simple = .ppid
                case UInt8(ascii: "q"): simple = .queryString
                case UInt8(ascii: "Q"): simple = .querySeparator
                case UInt8(ascii: "r"): simple = .requestURI
                case UInt8(ascii: "R"): simple = .remoteAddr
                case UInt8(ascii: "s"): simple = .status
                case UInt8(ascii: "u"): simple = .remoteUser
                default: throw .invalidToken(tokenText)
                }
                guard !braced else { throw .embraceNotAllowed(tokenText) }
                token = simple
            }
            flush()
            tokens.append(token)
        }
        flush()
        return tokens
    }

    private static func utf8Length(leadingByte: UInt8, available: Int) -> Int {
        let length: Int
        switch leadingByte {
        case 0xF0...0xF7: length = 4
        case 0xE0...0xEF: length = 3
        case 0xC0...0xDF: length = 2
        default: length = 1
        }
        return min(length, available)
    }

    // MARK: Rendering

    /// Appends one access-log line for `record`, ending in `\n`, to `buffer`.
    ///
    /// Allocates nothing beyond the buffer's own growth (and what the `%e`/`%o` lookups do).
    /// - Returns: true when the line was cut at ``lineLimit`` (at a UTF-8 character boundary).
    @discardableResult
    package func render(_ record: AccessLogRecord, into buffer: inout [UInt8]) -> Bool {
        let lineStart = buffer.endIndex
        for token in tokens {
            switch token {
            case .literal(let bytes):
                buffer.append(contentsOf: bytes)
            case .cpu(let part):
                let cpu: Double
                switch part {
                case .user: cpu = record.cpuUserSeconds
                case .system: cpu = record.cpuSystemSeconds
                case .total: cpu = record.cpuUserSeconds + record.cpuSystemSeconds
                }
                let seconds = Double(record.durationMicroseconds) / 1_000_000
                TextRendering.appendFixed(seconds > 0 ? cpu / seconds * 100 : 0, decimals: 2, to: &buffer)
            case .duration(let unit):
                switch unit {
                case .seconds:
                    TextRendering.appendFixed(Double(record.durationMicroseconds) / 1_000_000, decimals: 3, to: &buffer)
                case .milliseconds:
                    TextRendering.appendFixed(Double(record.durationMicroseconds) / 1_000, decimals: 3, to: &buffer)
                case .microseconds:
                    TextRendering.appendDecimal(record.durationMicroseconds, to: &buffer)
                }
            case .parameter(let name):
                appendLookup(record.parameter(name), to: &buffer)
            case .scriptFilename:
                appendOrDash(record.scriptFilename, to: &buffer)
            case .contentLength:
                TextRendering.appendDecimal(record.contentLength, to: &buffer)
            case .method:
                appendOrDash(record.method, to: &buffer)
            case .memory(let unit):
                switch unit {
                case .bytes: TextRendering.appendDecimal(record.memoryBytes, to: &buffer)
                case .kilobytes: TextRendering.appendDecimal(record.memoryBytes / 1024, to: &buffer)
                case .megabytes: TextRendering.appendDecimal(record.memoryBytes / (1024 * 1024), to: &buffer)
                }
            case .pool:
                buffer.append(contentsOf: record.pool.utf8)
            case .responseHeader(let name):
                appendLookup(record.responseHeader(name), to: &buffer)
            case .pid:
                TextRendering.appendDecimal(record.pid, to: &buffer)
            case .ppid:
                TextRendering.appendDecimal(record.ppid, to: &buffer)
            case .queryString:
                buffer.append(contentsOf: record.queryString.utf8)
            case .querySeparator:
                if !record.queryString.isEmpty { buffer.append(UInt8(ascii: "?")) }
            case .requestURI:
                buffer.append(contentsOf: record.requestURI.utf8)
            case .remoteAddr:
                appendOrDash(record.remoteAddr, to: &buffer)
            case .status:
                TextRendering.appendDecimal(record.status, to: &buffer)
            case .time(let end, let format):
                format.withUnsafeBufferPointer {
                    TextRendering.appendTime(epoch: end ? record.endSeconds : record.startSeconds,
                                             format: $0.baseAddress!, to: &buffer)
                }
            case .remoteUser:
                buffer.append(contentsOf: record.remoteUser.utf8)
            case .identity(let part):
                guard let identity = record.identity else {
                    buffer.append(UInt8(ascii: "-"))
                    continue
                }
                switch part {
                case .request: identity.appendRequestID(to: &buffer)
                case .trace: identity.appendTraceID(to: &buffer)
                case .span: TraceParent.appendHex(identity.spanID, digits: 16, to: &buffer)
                case .parent:
                    if identity.parentID != 0 {
                        TraceParent.appendHex(identity.parentID, digits: 16, to: &buffer)
                    } else {
                        buffer.append(UInt8(ascii: "-"))
                    }
                }
            }
        }
        var truncated = false
        if let limit = lineLimit, buffer.endIndex - lineStart > limit {
            var cut = lineStart + max(limit, 0)
            // Back off to a character boundary: never leave half a UTF-8 sequence.
            while cut > lineStart, buffer[cut] & 0xC0 == 0x80 { cut -= 1 }
            buffer.removeSubrange(cut...)
            truncated = true
        }
        buffer.append(UInt8(ascii: "\n"))
        return truncated
    }

    /// A looked-up value: `-` when absent, as is (even empty) when present.
    @inline(__always)
    private func appendLookup(_ value: String?, to buffer: inout [UInt8]) {
        if let value {
            buffer.append(contentsOf: value.utf8)
        } else {
            buffer.append(UInt8(ascii: "-"))
        }
    }

    @inline(__always)
    private func appendOrDash(_ value: String, to buffer: inout [UInt8]) {
        if !value.isEmpty {
            buffer.append(contentsOf: value.utf8)
        } else {
            buffer.append(UInt8(ascii: "-"))
        }
    }
}
