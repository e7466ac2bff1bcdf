/// Reads, checks and returns a configuration, or throws every error found.
///
/// A load reads the main file and its includes line by line (`INILexer`), applies each
/// directive to `[global]` or the current pool (`Directives`), then resolves relative paths and
/// runs php-fpm's post-processing checks (`ConfigurationValidation`). Parse errors do not stop
/// the read: all of a file's problems are reported together.
///
/// Where swift-fpm deliberately differs from php-fpm 8.2:
/// - `#` also starts a comment line (php-fpm: a syntax error); inside a value it stays literal.
/// - Single-quoted text is never expanded, not even `$pool` (php-fpm expands `$pool` everywhere);
///   `${X}` expanding to text containing `$pool` is not expanded again. Whitespace between a bare
///   and a quoted segment is dropped (php-fpm keeps it in some cases).
/// - `env[X] = $NAME` copies only when NAME is a variable name (`[A-Za-z_][A-Za-z0-9_]*`);
///   other `$…` values are literal.
/// - Negative time values, `listen.mode` that is not octal, ports outside 1…65535, malformed
///   `listen.allowed_clients` entries (entries are trimmed), a relative pool `prefix` with no `-p`,
///   unix socket paths containing `:`, and pool names outside `[A-Za-z0-9_.@-]{1,64}` are errors
///   at load time (php-fpm accepts them, or fails later or silently).
/// - A relative `include` with no `-p` is resolved against the main file's directory (php-fpm:
///   its compile-time prefix); `error_log` defaults to `/dev/stderr` (or `log/fpm.log` under `-p`);
///   `syslog.ident` defaults to `swift-fpm`.
/// - `slowlog` is not opened by `-t`; `user` is not required when running as root (the master
///   decides at start).
public enum ConfigurationLoader {
    /// Checks an `access.format` value; returns an error message, or nil when the format is good.
    public typealias AccessFormatValidator = @Sendable (String) -> String?

    /// How deep `include` may nest (php-fpm's limit).
    public static let maxIncludeDepth = 5

    /// Loads the configuration file at `path`.
    ///
    /// - Parameters:
    ///   - prefix: php-fpm's `-p`: relative paths (pid, error_log, pools' files, includes) are resolved
    ///     against it. Without one, relative `include` patterns are resolved against the main file's
    ///     directory and other relative paths are left as written.
    ///   - environment: the master's environment, for `${NAME}` and `env[X] = $NAME`.
    ///   - pidOverride: `-g`, replaces `pid`.
    ///   - accessFormatValidator: checks each pool's `access.format` (used when the pool has an
    ///     access log or sets the format).
    ///   - fileSystem: where files, globs, directories and accounts are looked up.
    public static func load(
        path: String, prefix: String? = nil, environment: [String: String], pidOverride: String? = nil,
        accessFormatValidator: AccessFormatValidator? = nil, fileSystem: ConfigurationFileSystem = .system
    ) throws(ConfigurationError) -> FPMConfiguration {
        let bytes: [UInt8]
        switch fileSystem.readFile(path) {
        case .success(let contents): bytes = contents
        case .failure(let error):
            throw ConfigurationError(diagnostics: [
                ConfigurationDiagnostic(file: path, line: nil, directive: nil, message: "unable to read the configuration file: \(error.message)")
            ])
        }
        return try load(
            bytes: bytes, path: path, prefix: prefix, environment: environment, pidOverride: pidOverride,
            accessFormatValidator: accessFormatValidator, fileSystem: fileSystem)
    }

    /// Loads configuration text; `path` names it in messages, and (without a prefix) its directory
    /// anchors relative includes. Pass `path: nil` for text that is not a file.
    public static func load(
        text: String, path: String?, prefix: String? = nil, environment: [String: String],
        pidOverride: String? = nil, accessFormatValidator: AccessFormatValidator? = nil,
        fileSystem: ConfigurationFileSystem = .system
    ) throws(ConfigurationError) -> FPMConfiguration {
        try load(
            bytes: Array(text.utf8), path: path, prefix: prefix, environment: environment, pidOverride: pidOverride,
            accessFormatValidator: accessFormatValidator, fileSystem: fileSystem)
    }

    /// Loads raw bytes (invalid UTF-8 is replaced, never rejected).
    public static func load(
        bytes: [UInt8], path: String?, prefix: String? = nil, environment: [String: String],
        pidOverride: String? = nil, accessFormatValidator: AccessFormatValidator? = nil,
        fileSystem: ConfigurationFileSystem = .system
    ) throws(ConfigurationError) -> FPMConfiguration {
        var reader = ConfigurationReader(
            environment: environment, prefix: prefix, fileSystem: fileSystem,
            includeBase: prefix ?? path.map(PathResolution.directory(of:)) ?? ".")
        reader.read(bytes, file: path, depth: 0)
        var configuration = reader.finish(path: path)
        if let pidOverride { configuration.global.pid = pidOverride }
        var validation = ConfigurationValidation(
            configuration: configuration, prefix: prefix, fileSystem: fileSystem,
            globalSource: reader.globalSource, skipGlobal: reader.globalHadErrors, skipPools: reader.poolsWithErrors,
            accessFormatValidator: accessFormatValidator)
        validation.run()
        // php.ini overrides are not ignored in a php-cgi pool: they become its -d settings.
        let phpCGIPools = Set(validation.configuration.pools.filter(\.runsPHPCGI).map(\.name))
        let readerDiagnostics = reader.diagnostics.filter { diagnostic in
            !(diagnostic.severity == .warning && diagnostic.directive?.hasPrefix("php_") == true
                && diagnostic.pool.map(phpCGIPools.contains) == true)
        }
        let diagnostics = readerDiagnostics + validation.diagnostics
        if diagnostics.contains(where: { $0.severity == .error }) {
            throw ConfigurationError(diagnostics: diagnostics)
        }
        configuration = validation.configuration
        configuration.warnings = diagnostics
        return configuration
    }

    /// The built-in configuration (`EmbeddedConfiguration.text`), used when no file is given or found.
    public static func loadEmbedded(environment: [String: String] = [:]) -> FPMConfiguration {
        do {
            return try load(
                text: EmbeddedConfiguration.text, path: nil, prefix: nil, environment: environment,
                fileSystem: .isolated)
        } catch {
            fatalError("the embedded configuration does not load: \(error)")
        }
    }
}

/// The first pass: lines → sections and typed values, with includes followed.
struct ConfigurationReader {
    enum Section {
        case global
        case pool(Int)
        /// After a bad section header: lines are skipped until the next header.
        case invalid
    }

    let environment: [String: String]
    let prefix: String?
    let fileSystem: ConfigurationFileSystem
    let includeBase: String

    var global = GlobalConfiguration()
    var globalSource = SourceMap(section: SourceLocation(file: nil, line: 0))
    var pools: [PoolConfiguration] = []
    var poolIndex: [String: Int] = [:]
    var section: Section = .global
    var diagnostics: [ConfigurationDiagnostic] = []
    var warnedPHPDirectives: Set<String> = []
    var globalHadErrors = false
    var poolsWithErrors: Set<Int> = []

    init(environment: [String: String], prefix: String?, fileSystem: ConfigurationFileSystem, includeBase: String) {
        self.environment = environment
        self.prefix = prefix
        self.fileSystem = fileSystem
        self.includeBase = includeBase
    }

    private var currentPoolName: String? {
        if case .pool(let index) = section { return pools[index].name }
        return nil
    }

    private mutating func error(_ file: String?, _ line: Int?, directive: String?, value: String? = nil, _ message: String) {
        diagnostics.append(ConfigurationDiagnostic(
            file: file, line: line, pool: currentPoolName, directive: directive, value: value, message: message))
        switch section {
        case .global: globalHadErrors = true
        case .pool(let index): poolsWithErrors.insert(index)
        case .invalid: break
        }
    }

    mutating func read(_ bytes: [UInt8], file: String?, depth: Int) {
        for (offset, rawLine) in INILexer.lines(of: bytes).enumerated() {
            let line = offset + 1
            let context = INILexer.Context(environment: environment, poolName: currentPoolName)
            switch INILexer.parse(rawLine, context: context) {
            case .blank:
                continue
            case .failure(let directive, let message):
                error(file, line, directive: directive, message)
            case .section(let name):
                openSection(name, file: file, line: line)
            case .assignment(let assignment):
                if assignment.name == "include" && assignment.key == nil {
                    include(assignment.value, file: file, line: line, depth: depth)
                } else {
                    apply(assignment, file: file, line: line)
                }
            }
        }
    }

    private mutating func openSection(_ name: String, file: String?, line: Int) {
        let key = name.lowercased()
        if key == "global" {
            section = .global
            return
        }
        if let message = Self.poolNameProblem(name) {
            section = .invalid
            diagnostics.append(ConfigurationDiagnostic(file: file, line: line, directive: nil, message: message))
            return
        }
        if let index = poolIndex[key] {
            section = .pool(index)
            return
        }
        poolIndex[key] = pools.count
        section = .pool(pools.count)
        pools.append(PoolConfiguration(name: name, source: SourceLocation(file: file, line: line)))
    }

    /// Pool names end up in process titles, log lines, status pages and scoreboard file names, so
    /// swift-fpm keeps them to a safe alphabet (php-fpm takes anything, even `[]`).
    static func poolNameProblem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-.@".unicodeScalars.contains(scalar))
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            return "invalid pool name '[\(name)]': use 1 to 64 letters, digits, '_', '-', '.' or '@'"
        }
        return nil
    }

    private mutating func include(_ pattern: String, file: String?, line: Int, depth: Int) {
        guard !pattern.isEmpty else {
            error(file, line, directive: "include", "empty value")
            return
        }
        guard depth < ConfigurationLoader.maxIncludeDepth else {
            error(file, line, directive: "include", value: pattern,
                  "failed to include more than \(ConfigurationLoader.maxIncludeDepth) files recursively")
            return
        }
        let resolved = PathResolution.resolve(pattern, against: includeBase)
        switch fileSystem.glob(resolved) {
        case .noMatch:
            diagnostics.append(ConfigurationDiagnostic(
                file: file, line: line, pool: currentPoolName, directive: "include", value: pattern,
                message: "nothing matches the include pattern '\(resolved)'", severity: .warning))
        case .failed(let reason):
            error(file, line, directive: "include", value: pattern, "unable to globalize '\(resolved)': \(reason)")
        case .matches(let paths):
            for path in paths {
                switch fileSystem.readFile(path) {
                case .success(let bytes): read(bytes, file: path, depth: depth + 1)
                case .failure(let reason):
                    error(file, line, directive: "include", value: pattern, "unable to read '\(path)': \(reason.message)")
                }
            }
        }
    }

    private mutating func apply(_ assignment: INILexer.Assignment, file: String?, line: Int) {
        let location = SourceLocation(file: file, line: line)
        let display = assignment.displayName
        switch section {
        case .invalid:
            return
        case .global:
            do {
                switch try Directives.applyGlobal(assignment, to: &global) {
                case .applied, .phpOnly:
                    globalSource.directives[assignment.name] = location
                case .unknown:
                    let hint = Directives.poolNames.contains(assignment.name) ? " (it belongs in a pool section)" : ""
                    error(file, line, directive: display, value: assignment.value, "unknown directive\(hint)")
                }
            } catch {
                self.error(file, line, directive: display, value: assignment.value, error.message)
            }
        case .pool(let index):
            do {
                switch try Directives.applyPool(assignment, to: &pools[index], environment: environment) {
                case .applied:
                    pools[index].source.directives[assignment.name] = location
                    // `env[X]` by its own line too, for messages about one variable.
                    if assignment.key != nil { pools[index].source.directives[display] = location }
                case .phpOnly:
                    pools[index].source.directives[assignment.name] = location
                    let key = pools[index].name.lowercased() + "\u{0}" + display
                    if warnedPHPDirectives.insert(key).inserted {
                        diagnostics.append(ConfigurationDiagnostic(
                            file: file, line: line, pool: pools[index].name, directive: display,
                            message: "PHP-only directive ignored by swift-fpm", severity: .warning))
                    }
                case .unknown:
                    let hint = Directives.globalNames.contains(assignment.name) ? " (it belongs in [global])" : ""
                    error(file, line, directive: display, value: assignment.value, "unknown directive\(hint)")
                }
            } catch {
                self.error(file, line, directive: display, value: assignment.value, error.message)
            }
        }
    }

    func finish(path: String?) -> FPMConfiguration {
        FPMConfiguration(global: global, pools: pools, path: path, warnings: [])
    }
}
