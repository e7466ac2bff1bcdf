import FPMSystem
import Glibc

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
            default: allowed = "'bytes', 'kilo', 'kilobytes', 'mega' or 'megabytes'"
            }
            return "only \(allowed) are allowed as a modifier for %\(token) ('\(modifier)')"
        }
    }

    package var description: String { message }
}

/// What the worker knows about one finished request, for the access log.
///
/// Plain values; each token of ``AccessLogFormat`` reads one field. Empty strings render as
/// php-fpm renders a missing value: `-` for `%R`, `%m` and `%f`; nothing for `%u`, `%q`, `%r`
/// and `%n`. A `%e`/`%o` lookup returning nil renders `-`, an empty value renders nothing.
package struct AccessLogRecord {
    /// `%R`: the FastCGI peer's address (the web server's, not the end user's).
    package var remoteAddr: String
    /// `%u`: the authenticated user.
    package var remoteUser: String
    /// `%m`.
    package var method: String
    /// `%r`: the script-name-derived URI, not REQUEST_URI.
    package var requestURI: String
    /// `%q`, and `%Q` (`?` when not empty).
    package var queryString: String
    /// `%f`.
    package var scriptFilename: String
    /// `%l`: the request body's length.
    package var contentLength: Int
    /// `%s`: the response status code.
    package var status: Int
    /// `%t`: when the request was accepted, seconds since the epoch (and the microseconds).
    package var startSeconds: Int
    package var startMicroseconds: Int
    /// `%T`: when the line is written, seconds since the epoch (and the microseconds).
    package var endSeconds: Int
    package var endMicroseconds: Int
    /// `%d`, and the denominator of `%C`.
    package var durationMicroseconds: Int
    /// `%C`: CPU time the request used, in seconds (children's time included if wanted).
    package var cpuUserSeconds: Double
    package var cpuSystemSeconds: Double
    /// `%M`: peak memory, bytes.
    package var memoryBytes: Int
    /// `%n`.
    package var pool: String
    /// `%p` and `%P`.
    package var pid: Int32
    package var ppid: Int32
    /// `%{NAME}e`: a FastCGI parameter by exact name, nil when absent.
    package var parameter: (String) -> String?
    /// `%{Name}o`: a response header's value, nil when absent. See
    /// ``headerLookup(_:)`` for the matching php-fpm users expect.
    package var responseHeader: (String) -> String?

    package init(
        remoteAddr: String = "",
        remoteUser: String = "",
        method: String = "",
        requestURI: String = "",
        queryString: String = "",
        scriptFilename: String = "",
        contentLength: Int = 0,
        status: Int = 0,
        startSeconds: Int = 0,
        startMicroseconds: Int = 0,
        endSeconds: Int = 0,
        endMicroseconds: Int = 0,
        durationMicroseconds: Int = 0,
        cpuUserSeconds: Double = 0,
        cpuSystemSeconds: Double = 0,
        memoryBytes: Int = 0,
        pool: String = "",
        pid: Int32 = 0,
        ppid: Int32 = 0,
        parameter: @escaping (String) -> String? = { _ in nil },
        responseHeader: @escaping (String) -> String? = { _ in nil }
    ) {
        self.remoteAddr = remoteAddr
        self.remoteUser = remoteUser
        self.method = method
        self.requestURI = requestURI
        self.queryString = queryString
        self.scriptFilename = scriptFilename
        self.contentLength = contentLength
        self.status = status
        self.startSeconds = startSeconds
        self.startMicroseconds = startMicroseconds
        self.endSeconds = endSeconds
        self.endMicroseconds = endMicroseconds
        self.durationMicroseconds = durationMicroseconds
        self.cpuUserSeconds = cpuUserSeconds
        self.cpuSystemSeconds = cpuSystemSeconds
        self.memoryBytes = memoryBytes
        self.pool = pool
        self.pid = pid
        self.ppid = ppid
        self.parameter = parameter
        self.responseHeader = responseHeader
    }

    /// A `%o` lookup over a header list: the first header whose name matches ignoring ASCII
    /// case. php-fpm matches case-sensitively, so its `%{Content-Type}o` misses PHP's own
    /// `Content-type` header; HTTP names are case-insensitive, and so is this.
    package static func headerLookup(_ headers: [(name: String, value: String)]) -> (String) -> String? {
        { wanted in headers.first { $0.name.caseInsensitiveEquals(wanted) }?.value }
    }
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
