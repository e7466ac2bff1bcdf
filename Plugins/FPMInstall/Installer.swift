import Foundation

/// Writes files under DESTDIR, as `install(1)` would: folders created as needed, modes set,
/// a file replaced through a temporary name so a running binary is never written over.
/// Configuration is the administrator's once installed: an existing file is kept and the new
/// one goes beside it as *.new (as `make install` does).
struct Installer {
    var destdir: String
    let files = FileManager.default

    func directory(_ path: String, mode: Int = 0o755) throws {
        try files.createDirectory(atPath: destdir + path, withIntermediateDirectories: true,
                                  attributes: [.posixPermissions: mode])
    }

    func copy(_ source: String, to path: String, mode: Int) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: source))
        try write(data, to: destdir + path, mode: mode)
        report(path)
    }

    func file(_ text: String, at path: String, mode: Int) throws {
        try write(Data(text.utf8), to: destdir + path, mode: mode)
        report(path)
    }

    func configuration(_ text: String, at path: String) throws {
        var target = path
        if files.fileExists(atPath: destdir + path) {
            if (try? String(contentsOfFile: destdir + path, encoding: .utf8)) == text { return report(path + " (unchanged)") }
            target += ".new"
        }
        try write(Data(text.utf8), to: destdir + target, mode: 0o644)
        report(target)
    }

    private func write(_ data: Data, to full: String, mode: Int) throws {
        let temporary = full + ".fpm-install-tmp"
        try? files.removeItem(atPath: temporary)
        guard files.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: mode]) else {
            throw InstallError("cannot write \(temporary)")
        }
        // createFile's mode is filtered by the umask; the installed mode must be exact.
        try files.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary)
        guard rename(temporary, full) == 0 else {
            throw InstallError("cannot rename \(temporary) to \(full): \(String(cString: strerror(errno)))")
        }
    }

    private func report(_ path: String) {
        say("  installed \(destdir)\(path)")
    }
}
