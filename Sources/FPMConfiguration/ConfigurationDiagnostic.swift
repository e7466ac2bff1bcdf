/// One problem found while reading a configuration: where, which directive, and what is wrong.
///
/// `description` is the one-line form every caller prints, for example
/// `conf/pool.d/www.conf:12: pm.start_servers = 9: must be between pm.min_spare_servers (1) and pm.max_spare_servers (3)`.
/// The severity is not part of it: the logger that prints it adds `ERROR:`/`WARNING:`/`NOTICE:`.
public struct ConfigurationDiagnostic: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: Int, Sendable, Comparable {
        case notice, warning, error
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The file the problem is in (as given to the loader); nil for the embedded default or file-less text.
    public var file: String?
    /// 1-based line number, when the problem belongs to a line.
    public var line: Int?
    /// The pool the problem belongs to, nil for `[global]` and file-level problems.
    public var pool: String?
    /// The directive as written, lower-cased (`pm.start_servers`, `env[FOO]`, `include`).
    public var directive: String?
    /// The directive's value as read, when the message is about that value.
    public var value: String?
    public var message: String
    public var severity: Severity

    public init(
        file: String?, line: Int?, pool: String? = nil, directive: String?, value: String? = nil,
        message: String, severity: Severity = .error
    ) {
        self.file = file
        self.line = line
        self.pool = pool
        self.directive = directive
        self.value = value
        self.message = message
        self.severity = severity
    }

    public var description: String {
        var text = ""
        if let file {
            text += file
            if let line { text += ":\(line)" }
            text += ": "
        }
        if let directive {
            text += directive
            if let value { text += " = \(value)" }
            text += ": "
        }
        return text + message
    }
}

/// The loader's failure: every error found (warnings collected so far are kept too, after them).
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [ConfigurationDiagnostic]

    public init(diagnostics: [ConfigurationDiagnostic]) {
        self.diagnostics = diagnostics
    }

    /// Only the errors, in the order they were found.
    public var errors: [ConfigurationDiagnostic] { diagnostics.filter { $0.severity == .error } }

    /// One diagnostic per line, errors first.
    public var description: String {
        let ordered = errors + diagnostics.filter { $0.severity != .error }
        return ordered.map(\.description).joined(separator: "\n")
    }
}
