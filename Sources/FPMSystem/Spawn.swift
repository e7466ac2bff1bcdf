import CFPMShims
import Glibc
import SystemPackage

/// A program started by `Spawn.start`: its pid (also its process group id) and the parent's
/// ends of its standard streams (non-blocking, close-on-exec), each owned: nil once closed.
/// `~Copyable` so the pipes have exactly one owner; no allocation (three `Int32`s in place).
package struct SpawnedProcess: ~Copyable {
    package let pid: pid_t
    package var stdin: OwnedDescriptor?
    package var stdout: OwnedDescriptor?
    package var stderr: OwnedDescriptor?

    /// The process group the program leads; its descendants stay in it unless they leave.
    package var group: pid_t { pid }

    /// Closes the pipes still open.
    package mutating func closePipes() {
        stdin.take()?.close()
        stdout.take()?.close()
        stderr.take()?.close()
    }
}

/// Resource limits a spawned program starts with (each nil: inherited). Applied in the child
/// before exec, so they bound the program and what it starts, never the caller.
package struct ResourceLimits: Sendable, Equatable {
    /// RLIMIT_AS, bytes of address space: an allocation past it fails (malloc returns NULL).
    package var addressSpace: Int?
    /// RLIMIT_CPU, seconds of CPU time: SIGXCPU when used up, SIGKILL one second later.
    package var cpuSeconds: Int?

    package init(addressSpace: Int? = nil, cpuSeconds: Int? = nil) {
        self.addressSpace = addressSpace
        self.cpuSeconds = cpuSeconds
    }
}

/// fork + exec of a helper program with pipes, in its own process group: what the CGI runner
/// needs, and the only place that does it.
///
/// The child starts clean: descriptors 0, 1 and 2 are the pipes and nothing else is open, every
/// signal has its default disposition and none is blocked, it leads a new process group (so the
/// caller can kill it and everything it started in one `kill(-pgid)`), and it gets SIGKILL if
/// the process that started it dies first.
package enum Spawn {
    /// Starts `path` with `arguments` (argv[0] included) and exactly `environment`
    /// (`NAME=value` strings), in `directory` when given. A failure after fork (chdir, exec)
    /// is reported on the child's stderr and exit code 127, as a shell would.
    /// The corresponding C functions are `fork`, `setpgid`, `dup2`, `close_range` and `execve`.
    package static func start(_ path: String, arguments: [String], environment: [String],
                             directory: String? = nil, limits: ResourceLimits = .init()) throws(SystemError) -> SpawnedProcess {
        try start(path, arguments: arguments, environment: environment.map { Array($0.utf8) }, directory: directory,
                  limits: limits)
    }

    /// `start` with the environment as raw bytes (`NAME=value`, no NUL): CGI params need not be
    /// UTF-8. `limits` are set in the child (`setrlimit`) before exec.
    package static func start(_ path: String, arguments: [String], environment: [[UInt8]],
                             directory: String? = nil, limits: ResourceLimits = .init()) throws(SystemError) -> SpawnedProcess {
        let input = try FileIO.pipe()
        let output: (read: Int32, write: Int32)
        let errors: (read: Int32, write: Int32)
        do throws(SystemError) {
            output = try FileIO.pipe()
            do throws(SystemError) {
                errors = try FileIO.pipe()
            } catch {
                FileIO.close(output.read); FileIO.close(output.write)
                throw error
            }
        } catch {
            FileIO.close(input.read); FileIO.close(input.write)
            throw error
        }
        // Everything the child needs is prepared before fork: it only makes system calls.
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { entry in
            let p = UnsafeMutablePointer<CChar>.allocate(capacity: entry.count + 1)
            if !entry.isEmpty {
                entry.withUnsafeBytes { UnsafeMutableRawPointer(p).copyMemory(from: $0.baseAddress!, byteCount: entry.count) }
            }
            p[entry.count] = 0
            return p
        }
        envp.append(nil)
        defer {
            for p in argv { free(p) }
            for p in envp { p?.deallocate() }
        }
        let cPath = strdup(path)!
        let cDirectory = directory.map { strdup($0)! }
        defer {
            free(cPath)
            if let cDirectory { free(cDirectory) }
        }
        let parent = getpid()

        // No signal handler of ours may run in the child before it resets them.
        var all = sigset_t()
        var previous = sigset_t()
        sigfillset(&all)
        sigprocmask(SIG_BLOCK, &all, &previous)
        let pid = Glibc.fork()
        if pid == 0 {
            childAfterFork(path: cPath, argv: &argv, envp: &envp, directory: cDirectory, parent: parent,
                           stdin: input.read, stdout: output.write, stderr: errors.write, limits: limits)
        }
        let forkErrno = Glibc.errno
        sigprocmask(SIG_SETMASK, &previous, nil)
        FileIO.close(input.read)
        FileIO.close(output.write)
        FileIO.close(errors.write)
        if pid < 0 {
            FileIO.close(input.write); FileIO.close(output.read); FileIO.close(errors.read)
            throw SystemError("fork", Errno(rawValue: forkErrno))
        }
        // Also done by the child; doing it here too closes the race with an early kill(-pgid).
        _ = setpgid(pid, pid)
        for fd in [input.write, output.read, errors.read] { try? FileIO.setNonBlocking(fd, true) }
        return SpawnedProcess(pid: pid, stdin: OwnedDescriptor(owning: input.write),
                              stdout: OwnedDescriptor(owning: output.read), stderr: OwnedDescriptor(owning: errors.read))
    }

    /// The child between fork and exec: system calls only, then exec or _exit(127).
    private static func childAfterFork(path: UnsafeMutablePointer<CChar>, argv: inout [UnsafeMutablePointer<CChar>?],
                                       envp: inout [UnsafeMutablePointer<CChar>?],
                                       directory: UnsafeMutablePointer<CChar>?, parent: pid_t,
                                       stdin: Int32, stdout: Int32, stderr: Int32, limits: ResourceLimits) -> Never {
        _ = setpgid(0, 0)
        _ = cfpm_prctl_set_pdeathsig(SIGKILL)
        if getppid() != parent { _exit(127) }
        if Glibc.dup2(stdin, 0) < 0 || Glibc.dup2(stdout, 1) < 0 || Glibc.dup2(stderr, 2) < 0 { _exit(127) }
        Descriptors.closeAll(from: 3)
        var sig: Int32 = 1
        while sig < 65 {
            if sig != SIGKILL && sig != SIGSTOP { _ = cfpm_sigaction_default(sig) }
            sig += 1
        }
        // glibc refuses 32 and 33 (its own), which an ancestor may have left ignored.
        _ = cfpm_reset_reserved_signals()
        _ = cfpm_sigqueue_empty_mask()
        if let directory, Glibc.chdir(directory) != 0 {
            fail("cannot change to the script's directory", path)
        }
        if let bytes = limits.addressSpace, !lower(RLIMIT_AS.rawValue, soft: UInt64(bytes), hard: UInt64(bytes)) {
            fail("cannot set RLIMIT_AS for", path)
        }
        if let seconds = limits.cpuSeconds, !lower(RLIMIT_CPU.rawValue, soft: UInt64(seconds), hard: UInt64(seconds) + 1) {
            fail("cannot set RLIMIT_CPU for", path)
        }
        argv.withUnsafeMutableBufferPointer { a in
            envp.withUnsafeMutableBufferPointer { e in
                _ = execve(path, a.baseAddress!, e.baseAddress!)
            }
        }
        fail("cannot execute", path)
    }

    /// Lowers a limit in the child (never above the hard limit it inherited, which an
    /// unprivileged process cannot raise). The corresponding C functions are `getrlimit` and
    /// `setrlimit`.
    private static func lower(_ resource: UInt32, soft: UInt64, hard: UInt64) -> Bool {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(resource), &limit) == 0 else { return false }
        let ceiling = UInt64(limit.rlim_max)
        limit.rlim_max = rlim_t(min(hard, ceiling))
        limit.rlim_cur = rlim_t(min(soft, ceiling))
        return setrlimit(__rlimit_resource_t(resource), &limit) == 0
    }

    private static func fail(_ what: StaticString, _ path: UnsafeMutablePointer<CChar>) -> Never {
        let code = Glibc.errno
        _ = Glibc.write(2, what.utf8Start, what.utf8CodeUnitCount)
        _ = Glibc.write(2, ": ", 2)
        _ = Glibc.write(2, path, strlen(path))
        _ = Glibc.write(2, ": ", 2)
        let reason = strerror(code)!
        _ = Glibc.write(2, reason, strlen(reason))
        _ = Glibc.write(2, "\n", 1)
        _exit(127)
    }

    /// Marks every descriptor from `first` up close-on-exec, so an `exec` that follows passes
    /// only the ones below (what an exec'd FastCGI program must see: 0, 1 and 2). Descriptors
    /// stay usable until the exec (a failure can still be logged).
    /// The corresponding C function is `close_range` with CLOSE_RANGE_CLOEXEC.
    package static func markCloseOnExec(from first: Int32) {
        Descriptors.markCloseOnExec(from: first)
    }

    /// True once `pid` has exited; it stays a zombie (its pid and process group stay reserved)
    /// until `reap`. The corresponding C function is `waitid` with WNOWAIT.
    package static func hasExited(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        while true {
            let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
            if r == 0 { return info._sifields._sigchld.si_pid == pid }
            if Glibc.errno == EINTR { continue }
            return true // ECHILD: nothing to wait for
        }
    }

    /// Sends `signal` to every process of `group`; false when none is left.
    /// The corresponding C function is `kill` with a negative pid.
    @discardableResult
    package static func signalGroup(_ group: pid_t, _ signal: Int32) -> Bool {
        guard group > 1 else { return false }
        return Glibc.kill(-group, signal) == 0
    }

    /// Collects `pid`'s exit status (blocking).
    package static func reap(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let r = Glibc.waitpid(pid, &status, 0)
            if r == pid { return ExitStatus(raw: status) }
            if r == -1 && Glibc.errno == EINTR { continue }
            return nil
        }
    }
}
