/// The few things the loader asks of the system: files, globs, directories, accounts.
///
/// `ConfigurationFileSystem.system` asks the real system; tests and the fuzzer pass their own
/// (`.virtual(files:)` keeps everything in memory, `.isolated` refuses includes and skips
/// every existence check), so nothing outside the loader's inputs decides its result.
public struct ConfigurationFileSystem: Sendable {
    /// What a glob found.
    public enum GlobResult: Sendable, Equatable {
        /// Regular files (directories already skipped), in alphabetical order.
        case matches([String])
        /// Nothing matched in an existing directory (php-fpm: a warning).
        case noMatch
        /// The pattern's directory is missing or unreadable (php-fpm: an error).
        case failed(String)
    }

    /// Reads a whole file, or returns the reason it cannot.
    public var readFile: @Sendable (String) -> Result<[UInt8], FileError>
    public var glob: @Sendable (String) -> GlobResult
    public var isDirectory: @Sendable (String) -> Bool
    public var isExecutable: @Sendable (String) -> Bool
    public var userExists: @Sendable (String) -> Bool
    public var groupExists: @Sendable (String) -> Bool
    /// The php-cgi an error message may suggest for a php-fpm pool file (nil: none installed).
    public var phpCGIProgram: @Sendable () -> String?

    public struct FileError: Error, Sendable, Equatable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }

    public init(
        readFile: @escaping @Sendable (String) -> Result<[UInt8], FileError>,
        glob: @escaping @Sendable (String) -> GlobResult,
        isDirectory: @escaping @Sendable (String) -> Bool,
        isExecutable: @escaping @Sendable (String) -> Bool,
        userExists: @escaping @Sendable (String) -> Bool,
        groupExists: @escaping @Sendable (String) -> Bool,
        phpCGIProgram: @escaping @Sendable () -> String? = { nil }
    ) {
        self.readFile = readFile
        self.glob = glob
        self.isDirectory = isDirectory
        self.isExecutable = isExecutable
        self.userExists = userExists
        self.groupExists = groupExists
        self.phpCGIProgram = phpCGIProgram
    }

    /// No file system at all: `include` fails, and every directory, program, user and group is taken to exist.
    public static let isolated = ConfigurationFileSystem(
        readFile: { _ in .failure(FileError("includes are disabled")) },
        glob: { _ in .failed("includes are disabled") },
        isDirectory: { _ in true },
        isExecutable: { _ in true },
        userExists: { _ in true },
        groupExists: { _ in true }
    )

    /// An in-memory tree: `files` maps absolute paths to contents; a directory exists when a file
    /// lies under it. Globs support `*` and `?` in the last path component. Accounts and programs
    /// are taken to exist.
    public static func virtual(files: [String: String]) -> ConfigurationFileSystem {
        let directories = Set(files.keys.flatMap { path -> [String] in
            var result: [String] = []
            var current = path
            while current != "/" && current != "." {
                current = PathResolution.directory(of: current)
                result.append(current)
            }
            return result
        })
        return ConfigurationFileSystem(
            readFile: { path in
                guard let text = files[path] else { return .failure(FileError("No such file or directory")) }
                return .success(Array(text.utf8))
            },
            glob: { pattern in
                let directory = PathResolution.directory(of: pattern)
                guard directories.contains(directory) else { return .failed("No such file or directory") }
                let namePattern = String(pattern[pattern.index(after: pattern.lastIndex(of: "/") ?? pattern.startIndex)...])
                let matches = files.keys.filter { path in
                    PathResolution.directory(of: path) == directory
                        && SystemLookup.wildcardMatches(namePattern, String(path.split(separator: "/").last ?? ""))
                }.sorted()
                return matches.isEmpty ? .noMatch : .matches(matches)
            },
            isDirectory: { directories.contains($0) },
            isExecutable: { _ in true },
            userExists: { _ in true },
            groupExists: { _ in true }
        )
    }
}

/// The pure parts of the lookups; the system calls behind `ConfigurationFileSystem.system` are
/// in ConfigurationFileSystem+System.swift.
enum SystemLookup {
    /// php-fpm accepts a numeric uid/gid without looking it up.
    static func numericID(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text).flatMap { $0 <= Int(UInt32.max) ? $0 : nil } ?? -1
    }

    /// fnmatch(3)-like matching of `*` and `?` (no brackets), used by the virtual file system.
    static func wildcardMatches(_ pattern: String, _ name: String) -> Bool {
        let pattern = Array(pattern.unicodeScalars)
        let name = Array(name.unicodeScalars)
        var p = 0
        var n = 0
        var star = -1
        var mark = 0
        while n < name.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == name[n] {
                p += 1
                n += 1
            } else if p < pattern.count, pattern[p] == "*" {
                star = p
                mark = n
                p += 1
            } else if star >= 0 {
                p = star + 1
                mark += 1
                n = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
