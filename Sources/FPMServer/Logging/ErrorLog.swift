import FPMSystem
import FPMConfiguration
import Glibc
import Logging

/// The error log of the master and its workers (`error_log`): a file, stderr, or syslog, at
/// `log_level`, in php-fpm's line format. Each line leaves in one write(2), so lines from
/// several processes appending to one file do not interleave.
package final class ErrorLog: @unchecked Sendable {
    package enum Destination: Sendable, Equatable {
        case stderr
        case file(String)
        case syslog(ident: String, facility: Int32)
    }

    package private(set) var destination: Destination
    package var level: LogSeverity
    package var limit: Int
    /// The log's own file (a `file` destination), owned; nil on stderr, which is not the log's
    /// to close. A reopen `dup2`s the new file onto the same number. After a change to syslog
    /// it stays open, unused, until the next change (as it always did).
    private var file: OwnedDescriptor?
    /// The descriptor lines are written to: the file's, 2 for stderr, -1 in a worker that
    /// forwards its lines.
    package var fd: Int32 { forwardFD != nil ? -1 : file?.rawValue ?? 2 }
    /// In a worker: the pipe its lines travel to the master through (-1: dropped, when the
    /// pipe could not be made). nil in the master, which writes the log itself.
    package private(set) var forwardFD: Int32? = nil

    package init(destination: Destination, level: LogSeverity, limit: Int = 1024) throws {
        self.destination = destination
        self.level = level
        self.limit = limit
        try open()
    }

    /// A log on stderr, before the configuration is known.
    package static func bootstrap() -> ErrorLog {
        try! ErrorLog(destination: .stderr, level: .notice)
    }

    private func open() throws {
        switch destination {
        case .stderr:
            break
        case .file(let path):
            let newFD = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
            if let current = file?.rawValue {
                try FileIO.dup2(newFD, current)
                FileIO.close(newFD)
                try? FileIO.setCloseOnExec(current, true)
            } else {
                file = OwnedDescriptor(owning: newFD)
            }
        case .syslog(let ident, let facility):
            Syslog.open(ident: ident, facility: facility)
        }
    }

    /// Reopens the file at its path (SIGUSR1, after logrotate moved it), keeping the same
    /// descriptor number.
    package func reopen() throws {
        try open()
    }

    /// Switches destination (a reload with a different error_log).
    package func change(to destination: Destination, level: LogSeverity, limit: Int) throws {
        if destination != self.destination {
            self.destination = destination
            switch destination {
            case .file:
                // A fresh file; the old one closes once it is open (or the open failed).
                let old = file.take()
                do {
                    try open()
                } catch {
                    old?.close()
                    throw error
                }
                old?.close()
            case .stderr:
                file.take()?.close()
            case .syslog:
                try open()
            }
        }
        self.level = level
        self.limit = limit
    }

    /// In a new worker: let go of the master's log (its file descriptor is closed; stderr is
    /// redirected apart) and send every line through `pipe` to the master from now on
    /// (`WorkerLogLine`). A log reopen then concerns the master alone.
    package func forward(to pipe: Int32) {
        file.take()?.close()
        forwardFD = pipe
    }

    package func log(_ severity: LogSeverity, _ message: String) {
        guard severity >= level else { return }
        if let forwardFD {
            if forwardFD >= 0 { try? FileIO.writeAll(forwardFD, WorkerLogLine.encode(severity, message, limit: limit)) }
            return
        }
        if case .syslog = destination {
            let priority: Int32
            switch severity {
            case .debug: priority = LOG_DEBUG
            case .notice: priority = LOG_NOTICE
            case .warning: priority = LOG_WARNING
            case .error: priority = LOG_ERR
            case .alert: priority = LOG_ALERT
            }
            let line = LogLine.formatSyslog(level: severity, message: message, limit: limit)
            Syslog.write(priority: priority, line)
            return
        }
        let line = LogLine.format(level: severity, message: message, time: SystemClock.wallClock(), limit: limit,
                                  debugTimestamp: level == .debug)
        try? FileIO.writeAll(fd, line)
    }

    package func debug(_ m: @autoclosure () -> String) { if level <= .debug { log(.debug, m()) } }
    package func notice(_ m: String) { log(.notice, m) }
    package func warning(_ m: String) { log(.warning, m) }
    package func error(_ m: String) { log(.error, m) }
    package func alert(_ m: String) { log(.alert, m) }
}

/// Lets handler code use swift-log's `Logger`; its lines go to the pool's error log.
package struct ErrorLogHandler: LogHandler {
    package var metadata: Logger.Metadata = [:]
    package var logLevel: Logger.Level = .info
    let label: String
    let errorLog: ErrorLog

    package init(label: String, log: ErrorLog) {
        self.label = label
        self.errorLog = log
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let severity: LogSeverity
        switch event.level {
        case .trace, .debug: severity = .debug
        case .info, .notice: severity = .notice
        case .warning: severity = .warning
        case .error: severity = .error
        case .critical: severity = .alert
        }
        var text = "[\(label)] \(event.message)"
        let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
        if !all.isEmpty { text += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
        errorLog.log(severity, text)
    }
}


extension LogSeverity {
    /// The severity threshold for a configured `log_level`.
    package init(level: LogLevel) {
        switch level {
        case .debug: self = .debug
        case .notice: self = .notice
        case .warning: self = .warning
        case .error: self = .error
        case .alert: self = .alert
        }
    }
}
