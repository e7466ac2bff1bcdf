import FPMSystem

// Everything FPMConfiguration asks of the real system, in one file and through FPMSystem: the
// rest of the module is pure. The configuration fuzzer (mk/config.mk) builds the module without
// this file, with fuzz/ConfigFuzzSystem.swift in its place.

extension ConfigurationFileSystem {
    /// The real file system and account database.
    public static let system = ConfigurationFileSystem(
        readFile: SystemLookup.readFile,
        glob: SystemLookup.glob,
        isDirectory: SystemLookup.isDirectory,
        isExecutable: SystemLookup.isExecutable,
        userExists: SystemLookup.userExists,
        groupExists: SystemLookup.groupExists,
        phpCGIProgram: { PHPCGI.installedProgram(path: ProcessEnvironment.value("PATH")) }
    )
}

extension SystemLookup {
    static func readFile(_ path: String) -> Result<[UInt8], ConfigurationFileSystem.FileError> {
        do throws(SystemError) {
            return .success(try FileSystem.contents(of: path))
        } catch {
            return .failure(.init(SystemError.message(for: error.code)))
        }
    }

    static func glob(_ pattern: String) -> ConfigurationFileSystem.GlobResult {
        switch FileSystem.glob(pattern) {
        case .paths(let found):
            let paths = found.filter { !$0.hasSuffix("/") }
            return paths.isEmpty ? .noMatch : .matches(paths.sorted())
        case .noMatch:
            return .noMatch
        case .failed(let status):
            return .failed("unable to expand the pattern (glob returned \(status)): the directory does not exist or cannot be read")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        FileSystem.isDirectory(path)
    }

    static func isExecutable(_ path: String) -> Bool {
        FileSystem.isRegularFile(path) && FileSystem.canAccess(path, .execute)
    }

    static func userExists(_ name: String) -> Bool {
        if let id = numericID(name) { return id >= 0 }
        return Processes.userExists(named: name)
    }

    static func groupExists(_ name: String) -> Bool {
        if let id = numericID(name) { return id >= 0 }
        return Processes.groupExists(named: name)
    }

    static func isIPAddress(_ text: String) -> Bool {
        PeerAddress(literal: text) != nil
    }
}

extension ConfigurationLoader {
    /// The configuration file to use when `-y` is not given, or nil to use the embedded default.
    ///
    /// With a prefix: `$prefix/etc/fpm.conf`, then `$prefix/conf/fpm.conf`. Without: `conf/fpm.conf`
    /// (relative to the working directory, as in a checkout), then `/etc/swift-fpm/fpm.conf`.
    /// The first that exists wins.
    public static func defaultConfigPath(prefix: String?) -> String? {
        let candidates: [String]
        if let prefix {
            candidates = [PathResolution.resolve("etc/fpm.conf", against: prefix), PathResolution.resolve("conf/fpm.conf", against: prefix)]
        } else {
            candidates = ["conf/fpm.conf", "/etc/swift-fpm/fpm.conf"]
        }
        return candidates.first { FileSystem.isRegularFile($0) }
    }
}

extension PHPCGI {
    /// The php-cgi to name in `exec = …`: the newest versioned `php-cgiX.Y` on `PATH`, else a
    /// plain `php-cgi`, else nil (the message then says `/path/to/php-cgi`).
    static func installedProgram(path: String?) -> String? {
        let directories = (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        var names: Set<String> = []
        for directory in directories where directory.hasPrefix("/") {
            guard case .matches(let paths) = SystemLookup.glob(directory + "/php-cgi*") else { continue }
            for path in paths where SystemLookup.isExecutable(path) {
                names.insert(String(path.split(separator: "/").last ?? ""))
            }
        }
        return preferred(names)
    }
}
