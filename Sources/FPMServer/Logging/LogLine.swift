import FPMStatus
import FPMSystem

/// How serious an error-log entry is; php-fpm's five levels, least serious first.
///
/// Kept apart from the configuration's `log_level` type so the log formatter does not depend
/// on the configuration module.
package enum LogSeverity: Int, Sendable, CaseIterable, Comparable {
    case debug = 1
    case notice
    case warning
    case error
    case alert

    /// The word php-fpm writes: `DEBUG`, `NOTICE`, `WARNING`, `ERROR`, `ALERT`.
    package var label: String {
        switch self {
        case .debug: return "DEBUG"
        case .notice: return "NOTICE"
        case .warning: return "WARNING"
        case .error: return "ERROR"
        case .alert: return "ALERT"
        }
    }

    package static func < (lhs: LogSeverity, rhs: LogSeverity) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// php-fpm's error-log line, for the master and for workers' decorated output.
///
/// File form: `[27-Nov-2026 17:04:11] NOTICE: fpm is running, pid 16789` and a newline; at
/// debug level the time has microseconds and the message is prefixed with its origin:
/// `[27-Nov-2026 17:06:50.712502] DEBUG: pid 21276, spawn(), line 398: …`. Syslog form:
/// `[NOTICE] message`, no time (syslog adds its own), no newline.
///
/// `log_limit` caps a line **including its newline**, as php-fpm counts it: a longer line is
/// cut to `limit - 1` bytes whose last three are `...`, then the newline (checked against
/// php-fpm 8.2 with limits 512 and 1024). Differences: the cut never splits a UTF-8 character
/// (the line may then be a few bytes shorter), and there is no hidden 2048-byte ceiling
/// (php-fpm never writes more than 2047 bytes whatever `log_limit` says).
package enum LogLine {
    /// Where a debug-level message comes from, shown as `pid P, function(), line N: `.
    package struct Origin: Sendable, Equatable {
        package var pid: Int32
        package var function: String
        package var line: Int

        package init(pid: Int32, function: String, line: Int) {
            self.pid = pid
            self.function = function
            self.line = line
        }
    }

    /// The file form, newline included.
    /// - Parameters:
    ///   - time: the wall-clock time of the entry; the microseconds show only with `debugTimestamp`.
    ///   - limit: `log_limit`; nil for none.
    ///   - debugTimestamp: true when `log_level = debug`.
    package static func format(level: LogSeverity, message: String, time: (seconds: Int, microseconds: Int),
                              limit: Int? = nil, debugTimestamp: Bool = false, origin: Origin? = nil) -> String {
        var buffer: [UInt8] = []
        append(level: level, message: message, time: time, limit: limit, debugTimestamp: debugTimestamp,
               origin: origin, into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Appends the file form, newline included, to `buffer`.
    package static func append(level: LogSeverity, message: String, time: (seconds: Int, microseconds: Int),
                              limit: Int? = nil, debugTimestamp: Bool = false, origin: Origin? = nil,
                              into buffer: inout [UInt8]) {
        let start = buffer.endIndex
        buffer.append(UInt8(ascii: "["))
        TextRendering.appendTime(epoch: time.seconds, format: TextRendering.logTimeFormat, to: &buffer)
        if debugTimestamp {
            buffer.append(UInt8(ascii: "."))
            TextRendering.appendPadded(UInt64(clamping: time.microseconds), width: 6, to: &buffer)
        }
        buffer.append(contentsOf: "] ".utf8)
        appendBody(level: level, message: message, origin: origin, into: &buffer)
        if let limit { cut(&buffer, from: start, toFit: limit - 1) }
        buffer.append(UInt8(ascii: "\n"))
    }

    /// The syslog form, `[LEVEL] message`, no newline, cut like a file line of `limit` bytes.
    package static func formatSyslog(level: LogSeverity, message: String, limit: Int? = nil,
                                    origin: Origin? = nil) -> String {
        var buffer: [UInt8] = [UInt8(ascii: "[")]
        buffer.append(contentsOf: level.label.utf8)
        buffer.append(contentsOf: "] ".utf8)
        var body: [UInt8] = []
        appendBody(level: nil, message: message, origin: origin, into: &body)
        buffer.append(contentsOf: body)
        if let limit { cut(&buffer, from: 0, toFit: limit - 1) }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// php-fpm's suffix for system errors (`ZLOG_SYSERROR`): `: Operation not permitted (1)`.
    package static func systemErrorSuffix(errno code: Int32) -> String {
        let text = SystemError.message(for: code)
        return ": \(text) (\(code))"
    }

    private static func appendBody(level: LogSeverity?, message: String, origin: Origin?,
                                   into buffer: inout [UInt8]) {
        if let level {
            buffer.append(contentsOf: level.label.utf8)
            buffer.append(contentsOf: ": ".utf8)
        }
        if let origin {
            buffer.append(contentsOf: "pid ".utf8)
            TextRendering.appendDecimal(origin.pid, to: &buffer)
            buffer.append(contentsOf: ", ".utf8)
            buffer.append(contentsOf: origin.function.utf8)
            if !origin.function.utf8.contains(UInt8(ascii: "(")) { buffer.append(contentsOf: "()".utf8) }
            buffer.append(contentsOf: ", line ".utf8)
            TextRendering.appendDecimal(origin.line, to: &buffer)
            buffer.append(contentsOf: ": ".utf8)
        }
        buffer.append(contentsOf: message.utf8)
    }

    /// Cuts `buffer[start...]` to at most `maximum` bytes ending in `...` when it is longer.
    private static func cut(_ buffer: inout [UInt8], from start: Int, toFit maximum: Int) {
        guard buffer.endIndex - start > maximum else { return }
        var end = start + max(maximum - 3, 0)
        while end > start, buffer[end] & 0xC0 == 0x80 { end -= 1 }
        buffer.removeSubrange(end...)
        buffer.append(contentsOf: "...".utf8)
    }
}
