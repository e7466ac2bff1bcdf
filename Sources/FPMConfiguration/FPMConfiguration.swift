/// A whole configuration as the master uses it: `[global]`, the pools in the order they were first
/// opened, and the warnings and notices the reader produced (errors make the load throw instead).
public struct FPMConfiguration: Sendable, Equatable {
    public var global: GlobalConfiguration
    public var pools: [PoolConfiguration]
    /// The main configuration file; nil for the embedded default.
    public var path: String?
    /// Warnings and notices, in the order found (each has `severity` `.warning` or `.notice`).
    public var warnings: [ConfigurationDiagnostic]

    public init(
        global: GlobalConfiguration = GlobalConfiguration(), pools: [PoolConfiguration] = [],
        path: String? = nil, warnings: [ConfigurationDiagnostic] = []
    ) {
        self.global = global
        self.pools = pools
        self.path = path
        self.warnings = warnings
    }

    /// The pool with this name, compared case-insensitively like section names.
    public func pool(named name: String) -> PoolConfiguration? {
        let key = name.lowercased()
        return pools.first { $0.name.lowercased() == key }
    }
}

/// Where something was set. Two locations always compare equal, so that a configuration read from
/// different files (or re-read from its `-tt` rendering) compares equal when its values are.
public struct SourceLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var file: String?
    public var line: Int

    public init(file: String?, line: Int) {
        self.file = file
        self.line = line
    }

    public static func == (lhs: SourceLocation, rhs: SourceLocation) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}

    public var description: String {
        if let file { return "\(file):\(line)" }
        return "line \(line)"
    }
}

/// Where a pool's section header and each of its directives were last set, for messages.
/// Ignored by `==` (see `SourceLocation`).
public struct SourceMap: Sendable, Equatable {
    public var section: SourceLocation
    /// Lower-cased directive name (array directives by their base name, e.g. `env`) → last assignment.
    public var directives: [String: SourceLocation]

    public init(section: SourceLocation, directives: [String: SourceLocation] = [:]) {
        self.section = section
        self.directives = directives
    }

    public static func == (lhs: SourceMap, rhs: SourceMap) -> Bool { true }

    /// Where `directive` was last set, or the section header when it never was.
    public func location(of directive: String) -> SourceLocation {
        directives[directive] ?? section
    }

    public func isSet(_ directive: String) -> Bool { directives[directive] != nil }
}
