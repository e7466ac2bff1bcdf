import FPMConfiguration
import Testing

/// A minimal valid pool, for tests that add one directive to it.
let minimalPool = """
    [www]
    listen = 127.0.0.1:9000
    pm = static
    pm.max_children = 1
    handler = info

    """

/// Loads `text` as `t.conf` with no file system (`.isolated`), or with `fileSystem` when given.
func load(
    _ text: String, environment: [String: String] = [:], prefix: String? = nil,
    fileSystem: ConfigurationFileSystem = .isolated,
    accessFormatValidator: ConfigurationLoader.AccessFormatValidator? = nil
) throws(ConfigurationError) -> FPMConfiguration {
    try ConfigurationLoader.load(
        text: text, path: "t.conf", prefix: prefix, environment: environment,
        accessFormatValidator: accessFormatValidator, fileSystem: fileSystem)
}

/// The pool `www` of `minimalPool` followed by `lines`.
/// A pool that runs a program (`exec`) has no `handler` line: the two exclude each other.
let minimalExecPool = """
    [www]
    listen = 127.0.0.1:9000
    pm = static
    pm.max_children = 1

    """

func loadPool(_ lines: String, environment: [String: String] = [:]) throws(ConfigurationError) -> PoolConfiguration {
    let base = lines.hasPrefix("exec") ? minimalExecPool : minimalPool
    let configuration = try load(base + lines + "\n", environment: environment)
    return configuration.pools[0]
}

/// The error lines (descriptions) a load fails with, or [] when it succeeds.
func errors(
    _ text: String, environment: [String: String] = [:], prefix: String? = nil,
    fileSystem: ConfigurationFileSystem = .isolated,
    accessFormatValidator: ConfigurationLoader.AccessFormatValidator? = nil
) -> [String] {
    do {
        _ = try load(text, environment: environment, prefix: prefix, fileSystem: fileSystem, accessFormatValidator: accessFormatValidator)
        return []
    } catch {
        return error.errors.map(\.description)
    }
}

/// The error lines for `minimalPool` followed by `lines` (which start at line 5).
func poolErrors(_ lines: String) -> [String] {
    errors(minimalPool + lines + "\n")
}
