import Glibc
import SystemPackage

/// Creating the master's own files so that nothing another local user planted is followed or
/// adopted. Every new file is opened `O_CREAT|O_EXCL|O_NOFOLLOW` under a name no one can guess
/// ahead (pid and a clock reading), and only then renamed over its final name: `rename` replaces
/// a planted symbolic link itself, never what it points to, and in a sticky folder it refuses to
/// replace another user's file. The master's runtime folder is checked the same way before it
/// is used (`ensureDirectory`).
package enum PrivateFiles {
    /// Opens a file that did not exist; a file or a link already at `path` fails with EEXIST.
    /// `group`, when given, becomes the file's group (then `mode` is applied: group bits count).
    /// The corresponding C functions are `open`, `fchown` and `fchmod`.
    package static func createNew(_ path: String, mode: mode_t, group: gid_t? = nil) throws(SystemError) -> Int32 {
        let fd = try retrying("open(\(path))") { Glibc.open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode) }
        do throws(SystemError) {
            if let group { _ = try retrying("fchown(\(path))") { fchown(fd, uid_t.max, group) } }
            _ = try retrying("fchmod(\(path))") { fchmod(fd, mode) }
        } catch {
            Glibc.close(fd)
            Glibc.unlink(path)
            throw error
        }
        return fd
    }

    /// A temporary name beside `path` that no one can have planted in advance by guessing.
    package static func temporaryName(for path: String, _ tag: String) -> String {
        "\(path).\(tag).\(getpid()).\(SystemClock.monotonicNanos())"
    }

    /// Writes a whole small file atomically: a new temporary file beside it, then `rename`.
    /// The corresponding C functions are `open`, `write` and `rename`.
    package static func writeAtomically(_ path: String, _ contents: String, mode: mode_t = 0o644,
                                        group: gid_t? = nil) throws(SystemError) {
        let tmp = temporaryName(for: path, "tmp")
        let fd = try createNew(tmp, mode: mode, group: group)
        defer { FileIO.close(fd) }
        do throws(SystemError) {
            try FileIO.writeAll(fd, contents)
            try FileIO.rename(tmp, path)
        } catch {
            FileIO.unlink(tmp)
            throw error
        }
    }

    /// Why a runtime folder cannot be used.
    package struct UnsafeDirectory: Error, CustomStringConvertible, Sendable {
        package var path: String
        package var reason: String
        package var description: String { "refusing to use the runtime directory \(path): \(reason)" }
    }

    /// Makes sure `path` is a folder only this user (and `group`, reading) can reach: created
    /// with `mode` when missing; when present it must be a real folder (not a link) owned by
    /// this user; its mode and group are then set as asked.
    /// The corresponding C functions are `mkdir`, `open`, `fstat`, `fchown` and `fchmod`.
    package static func ensureDirectory(_ path: String, mode: mode_t, group: gid_t? = nil) throws {
        if Glibc.mkdir(path, mode) != 0 && errno != EEXIST {
            throw UnsafeDirectory(path: path, reason: "mkdir: \(SystemError.message(for: errno))")
        }
        try withOwnDirectory(path, group: group) { fd, st in
            if st.st_mode & 0o7777 != mode, fchmod(fd, mode) != 0 {
                throw UnsafeDirectory(path: path, reason: "fchmod: \(SystemError.message(for: errno))")
            }
        }
    }

    /// Checks an existing folder without changing its mode: a real folder (not a link), owned
    /// by this user, writable by no one else. `group`, when given, becomes its group.
    /// The corresponding C functions are `open`, `fstat` and `fchown`.
    package static func checkDirectory(_ path: String, group: gid_t? = nil) throws {
        try withOwnDirectory(path, group: group) { _, st in
            if st.st_mode & 0o022 != 0 {
                throw UnsafeDirectory(path: path, reason: "it is writable by others (mode 0\(String(st.st_mode & 0o7777, radix: 8)))")
            }
        }
    }

    /// Opens `path` as a folder without following a link, checks it is this user's and sets
    /// `group`, then hands it to `body`.
    private static func withOwnDirectory(_ path: String, group: gid_t?, _ body: (Int32, stat) throws -> Void) throws {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            throw UnsafeDirectory(path: path, reason: e == ELOOP || e == ENOTDIR
                                  ? "it is a symbolic link or not a directory" : SystemError.message(for: e))
        }
        defer { Glibc.close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw UnsafeDirectory(path: path, reason: "fstat: \(SystemError.message(for: errno))") }
        let me = geteuid()
        guard st.st_uid == me else {
            throw UnsafeDirectory(path: path, reason: "it is owned by uid \(st.st_uid), not by this user (uid \(me))")
        }
        if let group, st.st_gid != group, fchown(fd, uid_t.max, group) != 0 {
            throw UnsafeDirectory(path: path, reason: "fchown to group \(group): \(SystemError.message(for: errno))")
        }
        try body(fd, st)
    }

    /// The effective user id (who the runtime folder must belong to).
    package static var effectiveUser: uid_t { geteuid() }
}
