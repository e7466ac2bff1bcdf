import Glibc

/// Questions about accounts and this process that need no privilege and change nothing: what
/// the configuration loader checks (does a user or group exist) and what the test app reports.
extension Processes {
    /// True when the account database knows the user `name`.
    /// The corresponding C function is `getpwnam`.
    package static func userExists(named name: String) -> Bool {
        getpwnam(name) != nil
    }

    /// True when the group database knows the group `name`.
    /// The corresponding C function is `getgrnam`.
    package static func groupExists(named name: String) -> Bool {
        getgrnam(name) != nil
    }

    /// The real user and group ids. The corresponding C functions are `getuid` and `getgid`.
    package static var realIDs: (user: uid_t, group: gid_t) { (getuid(), getgid()) }

    /// The working directory, or nil when it cannot be named.
    /// The corresponding C function is `getcwd`.
    package static var workingDirectory: String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
