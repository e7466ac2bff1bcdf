import CFPMShims
import Glibc
import SystemPackage

/// How a child ended, decoded from a `waitpid` status.
package enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(code: Int32)
    case signaled(signal: Int32, coreDumped: Bool)

    init(raw: Int32) {
        if cfpm_wifexited(raw) != 0 {
            self = .exited(code: cfpm_wexitstatus(raw))
        } else {
            self = .signaled(signal: cfpm_wtermsig(raw), coreDumped: cfpm_wcoredump(raw) != 0)
        }
    }

    package var description: String {
        switch self {
        case .exited(let code): return "exited with code \(code)"
        case .signaled(let s, let core):
            return "exited on signal \(s) (\(Signals.name(s))\(core ? " - core dumped" : ""))"
        }
    }
}

/// Process-control system calls: fork, exec, wait, kill, identity and limits.
package enum Processes {
    /// `fork(2)`. The caller must hold no locks and run no other threads.
    package static func fork() throws(SystemError) -> pid_t {
        try checked("fork") { Glibc.fork() }
    }

    /// `waitpid(-1, WNOHANG)`: one reaped child, or nil when none has exited.
    package static func reapAny() -> (pid: pid_t, status: ExitStatus)? {
        var status: Int32 = 0
        while true {
            let pid = Glibc.waitpid(-1, &status, WNOHANG)
            if pid > 0 { return (pid, ExitStatus(raw: status)) }
            if pid == -1 && errno == EINTR { continue }
            return nil
        }
    }

    /// `kill(2)`; a vanished process is not an error.
    @discardableResult
    package static func signal(_ pid: pid_t, _ sig: Int32) -> Bool {
        Glibc.kill(pid, sig) == 0
    }

    package static func isAlive(_ pid: pid_t) -> Bool {
        Glibc.kill(pid, 0) == 0 || errno == EPERM
    }

    package static var pid: pid_t { getpid() }
    package static var parentPID: pid_t { getppid() }

    /// `execv(2)` of `path` with `arguments` (argv[0] included) and the current environment.
    package static func exec(_ path: String, _ arguments: [String]) -> SystemError {
        var cargs = arguments.map { strdup($0) }
        cargs.append(nil)
        execv(path, cargs)
        let e = Errno(rawValue: errno)
        for p in cargs { free(p) }
        return SystemError("execv(\(path))", e)
    }

    /// `execve(2)` with an explicit environment; `path` searched in PATH when it has no slash.
    package static func exec(_ path: String, _ arguments: [String], environment: [String]) -> SystemError {
        var cargs = arguments.map { strdup($0) }
        cargs.append(nil)
        var cenv = environment.map { strdup($0) }
        cenv.append(nil)
        cfpm_execvpe(path, cargs, cenv)
        let e = Errno(rawValue: errno)
        for p in cargs { free(p) }
        for p in cenv { free(p) }
        return SystemError("execve(\(path))", e)
    }

    /// Leaves the process immediately, without atexit handlers or stdio flushing (what a forked
    /// child must do when it cannot go on).
    package static func exitNow(_ code: Int32) -> Never {
        _exit(code)
    }

    package static func setsid() throws(SystemError) {
        _ = try checked("setsid") { Glibc.setsid() }
    }

    /// The path of the running executable, for re-exec on reload.
    package static func executablePath() -> String? {
        FileSystem.readLink("/proc/self/exe")
    }

    // MARK: identity and limits

    package static var isRoot: Bool { geteuid() == 0 }

    package struct Account: Sendable {
        package var name: String
        package var uid: uid_t
        package var gid: gid_t
        package var home: String
    }

    /// Looks a user up by name or numeric id.
    package static func user(_ nameOrID: String) -> Account? {
        var pw: UnsafeMutablePointer<passwd>?
        if let id = UInt32(nameOrID) {
            pw = getpwuid(id)
            if pw == nil { return Account(name: nameOrID, uid: id, gid: id, home: "/") }
        } else {
            pw = getpwnam(nameOrID)
        }
        guard let p = pw else { return nil }
        return Account(name: String(cString: p.pointee.pw_name), uid: p.pointee.pw_uid, gid: p.pointee.pw_gid,
                       home: String(cString: p.pointee.pw_dir))
    }

    package static func group(_ nameOrID: String) -> gid_t? {
        if let id = UInt32(nameOrID) { return id }
        guard let g = getgrnam(nameOrID) else { return nil }
        return g.pointee.gr_gid
    }

    /// setgid + initgroups + setuid, in that order.
    package static func dropPrivileges(to account: Account, group: gid_t) throws(SystemError) {
        _ = try checked("setgid(\(group))") { Glibc.setgid(group) }
        _ = try checked("initgroups(\(account.name))") { cfpm_initgroups(account.name, group) }
        _ = try checked("setuid(\(account.uid))") { Glibc.setuid(account.uid) }
    }

    package static func chroot(_ path: String) throws(SystemError) {
        _ = try checked("chroot(\(path))") { Glibc.chroot(path) }
    }

    package static func chdir(_ path: String) throws(SystemError) {
        _ = try checked("chdir(\(path))") { Glibc.chdir(path) }
    }

    /// `setrlimit(2)`; `nil` means unlimited.
    package static func setLimit(_ resource: Int32, _ value: UInt64?) throws(SystemError) {
        let v: rlim_t = value.map { rlim_t($0) } ?? rlim_t.max
        var lim = rlimit(rlim_cur: v, rlim_max: v)
        _ = try checked("setrlimit") { setrlimit(resource, &lim) }
    }

    package static func setPriority(_ value: Int32) throws(SystemError) {
        _ = try checked("setpriority") { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, value) }
    }

    package static func setDumpable(_ on: Bool) {
        _ = cfpm_prctl_set_dumpable(on ? 1 : 0)
    }

    /// The kernel's name for this process (what `ps -o comm`/`top` show): at most 15 bytes.
    package static func setName(_ name: String) {
        _ = cfpm_prctl_set_name(name)
    }

    package static func clearEnvironment() {
        _ = cfpm_clearenv()
    }

    /// Sets (replacing) one environment variable of this process.
    /// The corresponding C function is `setenv`.
    package static func setEnvironment(_ name: String, _ value: String) {
        setenv(name, value, 1)
    }

    /// Removes a variable from this process's environment. The corresponding C function is
    /// `unsetenv`.
    package static func unsetEnvironment(_ name: String) {
        _ = unsetenv(name)
    }

    /// The environment (safe after clearenv(), when glibc's environ is NULL).
    package static func environment() -> [String: String] {
        ProcessEnvironment.dictionary()
    }

    /// CPU time used by this process so far, in microseconds (user, system).
    package static func cpuTime() -> (user: Int, system: Int) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return (Int(usage.ru_utime.tv_sec) * 1_000_000 + Int(usage.ru_utime.tv_usec),
                Int(usage.ru_stime.tv_sec) * 1_000_000 + Int(usage.ru_stime.tv_usec))
    }

    /// CPU time (µs) and peak resident set size (bytes) from one getrusage call.
    package static func usage() -> (cpu: (user: Int, system: Int), peakMemory: Int) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Int(usage.ru_utime.tv_sec) * 1_000_000 + Int(usage.ru_utime.tv_usec)
        let system = Int(usage.ru_stime.tv_sec) * 1_000_000 + Int(usage.ru_stime.tv_usec)
        return ((user, system), Int(usage.ru_maxrss) * 1024)
    }
}
