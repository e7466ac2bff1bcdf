import FPMSystem
import SystemPackage

/// A request the CGI runner refuses before starting anything: the HTTP status and a message for
/// the client and the log.
package struct CGIRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    package var status: Int
    package var message: String
    package var description: String { "\(status): \(message)" }
}

/// Which scripts a `cgi` pool may run: the checks made on SCRIPT_FILENAME before fork.
///
/// In order: the name must be an absolute path without `..` segments or NUL bytes; its
/// extension must be allowed (checked before the file system is touched, so a refused name
/// says nothing about what exists); it must exist (404), be a regular file (403); its real path
/// (symlinks resolved) must lie inside DOCUMENT_ROOT when the web server sends one, and inside
/// the pool's `chroot` when that is set and this worker has not been chrooted into it; and it
/// must be executable by the worker's user (403).
package struct CGIScriptPolicy: Sendable, Equatable {
    /// The cgi handler's default when `security.limit_extensions` is not set.
    package static let defaultExtensions = [".cgi", ".sh", ".py", ".pl"]

    /// Allowed endings; empty means any file (`security.limit_extensions =` with no value).
    package var allowedExtensions: [String]
    /// The pool's `chroot` when this process is not already inside it.
    package var confinedTo: String?

    package init(allowedExtensions: [String] = CGIScriptPolicy.defaultExtensions, confinedTo: String? = nil) {
        self.allowedExtensions = allowedExtensions
        self.confinedTo = confinedTo
    }

    /// The resolved (real) path to execute, or why not.
    package func resolve(scriptFilename: String?, documentRoot: String?) -> Result<String, CGIRefusal> {
        guard let name = scriptFilename, !name.isEmpty else {
            return .failure(CGIRefusal(status: 404, message: "Primary script unknown (no SCRIPT_FILENAME)"))
        }
        guard name.hasPrefix("/") else {
            return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (not an absolute path)"))
        }
        if name.utf8.contains(0) {
            return .failure(CGIRefusal(status: 403, message: "Access to the script has been denied (NUL byte in its name)"))
        }
        if name.split(separator: "/").contains("..") {
            return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied ('..' in its path)"))
        }
        if !allowedExtensions.isEmpty && !allowedExtensions.contains(where: { !$0.isEmpty && name.hasSuffix($0) }) {
            return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (see security.limit_extensions)"))
        }
        let status: FileStatus
        do {
            status = try FileSystem.status(name)
        } catch {
            if error.errno == .permissionDenied {
                return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (permission denied)"))
            }
            return .failure(CGIRefusal(status: 404, message: "Primary script unknown: '\(name)' does not exist"))
        }
        guard status.kind == .regular else {
            return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (not a regular file)"))
        }
        guard let real = FileSystem.realPath(name) else {
            return .failure(CGIRefusal(status: 404, message: "Primary script unknown: '\(name)' cannot be resolved"))
        }
        if let root = documentRoot, !root.isEmpty {
            guard let realRoot = FileSystem.realPath(root) else {
                return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (DOCUMENT_ROOT '\(root)' does not exist)"))
            }
            guard Self.isInside(real, realRoot) else {
                return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (outside the document root '\(root)')"))
            }
        }
        if let jail = confinedTo {
            guard let realJail = FileSystem.realPath(jail), Self.isInside(real, realJail) else {
                return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (outside the pool's chroot '\(jail)')"))
            }
        }
        guard FileSystem.canAccess(real, .execute) else {
            return .failure(CGIRefusal(status: 403, message: "Access to the script '\(name)' has been denied (not executable)"))
        }
        return .success(real)
    }

    /// `path` equals `root` or lies below it.
    static func isInside(_ path: String, _ root: String) -> Bool {
        if root == "/" { return true }
        let trimmed = root.hasSuffix("/") ? String(root.dropLast()) : root
        return path == trimmed || path.hasPrefix(trimmed + "/")
    }

    /// The directory part of an absolute path.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Whether this process already runs inside `chroot`: then every path it sees is inside it
    /// and the path check is moot. Read from /proc/self/root; when /proc is not there (a chroot
    /// without /proc) the process is taken to be chrooted.
    package static func isChrooted() -> Bool {
        guard let root = FileSystem.readLink("/proc/self/root") else { return true }
        return root != "/"
    }
}
