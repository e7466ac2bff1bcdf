import Glibc
import SystemPackage

/// What `stat` says about a path: the checks the CGI runner and the launcher make.
package struct FileStatus: Sendable, Equatable {
    package enum Kind: Sendable, Equatable { case regular, directory, other }

    package var kind: Kind

    init(_ st: stat) {
        switch st.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        default: kind = .other
        }
    }
}

/// Path queries: stat, access, realpath, readlink.
package enum FileSystem {
    /// The status of `path`, symbolic links followed.
    /// The corresponding C function is `stat`.
    package static func status(_ path: String) throws(SystemError) -> FileStatus {
        var st = stat()
        _ = try retrying("stat(\(path))") { stat(path, &st) }
        return FileStatus(st)
    }

    /// True when `path` exists and is a directory (links followed).
    /// The corresponding C function is `stat`.
    package static func isDirectory(_ path: String) -> Bool {
        (try? status(path))?.kind == .directory
    }

    /// What `access` checks, for the real user.
    package struct Access: OptionSet, Sendable {
        package let rawValue: Int32
        package init(rawValue: Int32) { self.rawValue = rawValue }
        package static let read = Access(rawValue: R_OK)
        package static let write = Access(rawValue: W_OK)
        package static let execute = Access(rawValue: X_OK)
    }

    /// True when this process may use `path` as `mode` says.
    /// The corresponding C function is `access`.
    package static func canAccess(_ path: String, _ mode: Access) -> Bool {
        (try? retrying("access(\(path))") { access(path, mode.rawValue) }) != nil
    }

    /// The canonical absolute path (every link, `.` and `..` resolved), or nil when some part
    /// of it does not exist or cannot be searched.
    /// The corresponding C function is `realpath`.
    package static func realPath(_ path: String) -> String? {
        guard let p = realpath(path, nil) else { return nil }
        defer { free(p) }
        return String(cString: p)
    }

    /// The target of the symbolic link `path` (as stored, not resolved), or nil.
    /// The corresponding C function is `readlink`.
    package static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension FileSystem {
    /// The names in a directory (without `.` and `..`); empty when it cannot be read.
    /// The corresponding C functions are `opendir`, `readdir` and `closedir`.
    package static func entries(of directory: String) -> [String] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
