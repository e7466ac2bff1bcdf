import FPMSystem
import Glibc

/// The folder a master keeps its runtime files in (scoreboards, the state file, a reload's
/// inheritance): private to the master's user, and readable by `status.group` when one is set.
/// Nothing in it is in a world-writable folder's namespace, so no other local user can plant a
/// file or a link where the master writes, or read a scoreboard's live requests.
package enum RuntimeDirectory {
    /// The variable that names the folder outright (tests, several masters side by side).
    package static let overrideVariable = "SWIFT_FPM_RUNTIME_DIR"
    /// root's folder: /run is root's own and a tmpfs on systemd machines.
    package static let systemPath = "/run/swift-fpm"

    /// This process's folder: `SWIFT_FPM_RUNTIME_DIR`; for root /run/swift-fpm; for another user
    /// `$XDG_RUNTIME_DIR/swift-fpm` (a tmpfs only that user can enter), else a folder of its
    /// own, `swift-fpm-UID`, in /dev/shm (or `TMPDIR`, /tmp), which is checked before use.
    package static func path() -> String {
        if let dir = ProcessEnvironment.value(overrideVariable), !dir.isEmpty { return dir }
        let uid = PrivateFiles.effectiveUser
        if uid == 0 && FileSystem.isDirectory("/run") { return systemPath }
        if let xdg = ProcessEnvironment.value("XDG_RUNTIME_DIR"), xdg.hasPrefix("/"), FileSystem.isDirectory(xdg) {
            return "\(xdg)/swift-fpm"
        }
        let base = FileSystem.isDirectory("/dev/shm") ? "/dev/shm" : (ProcessEnvironment.value("TMPDIR") ?? "/tmp")
        return "\(base)/swift-fpm-\(uid)"
    }

    /// Where `fpmctl` looks for masters: its own user's folder, then root's (a member of
    /// `status.group` reads root's master).
    package static func searchPaths() -> [String] {
        let own = path()
        if ProcessEnvironment.value(overrideVariable)?.isEmpty == false { return [own] }
        return own == systemPath ? [own] : [own, systemPath]
    }

    /// Makes the folder ready before the master writes anything in it. One the master names
    /// itself is created (or tightened) to 0700, 0750 with a status group; one named by
    /// `SWIFT_FPM_RUNTIME_DIR` that exists is only checked (it must be a real folder of this user
    /// that no one else can write in): the operator chose its mode.
    package static func prepare(_ path: String, group: gid_t?) throws {
        let mode: mode_t = group == nil ? 0o700 : 0o750
        let named = ProcessEnvironment.value(overrideVariable) == path
        if named && FileSystem.isDirectory(path) {
            try PrivateFiles.checkDirectory(path, group: group)
        } else {
            try PrivateFiles.ensureDirectory(path, mode: mode, group: group)
        }
    }
}
