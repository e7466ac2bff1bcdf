import CFPMShims
import Glibc

extension Processes {
    /// Asks the kernel to send `signal` to this process when its parent dies. Survives the
    /// parent's `exec` (a reload) but not this process's change of identity, so call it after
    /// dropping privileges. The corresponding C function is `prctl(PR_SET_PDEATHSIG)`.
    package static func setParentDeathSignal(_ signal: Int32) throws(SystemError) {
        _ = try retrying("prctl(PR_SET_PDEATHSIG)") { cfpm_prctl_set_pdeathsig(signal) }
    }
}

extension Processes {
    /// Ends the process after flushing standard I/O (what a command-line tool wants; a forked
    /// worker uses `exitNow`). The corresponding C function is `exit`.
    package static func exit(_ code: Int32) -> Never {
        Glibc.exit(code)
    }

    /// Raises the soft RLIMIT_NOFILE to `wanted`, or to the hard limit when that is lower (a
    /// soft limit may rise to the hard one without privilege). Never lowers it. Returns the
    /// soft limit in force afterwards. The corresponding C functions are `getrlimit`, `setrlimit`.
    @discardableResult
    package static func raiseDescriptorLimit(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return descriptorLimit }
        let target = min(rlim_t(clamping: wanted), limit.rlim_max)
        if target > limit.rlim_cur {
            limit.rlim_cur = target
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        return descriptorLimit
    }

    /// How many descriptors this process may have open (the soft RLIMIT_NOFILE).
    /// The corresponding C function is `getrlimit`.
    package static var descriptorLimit: Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
    }
}

extension Processes {
    /// Makes this process the reaper of its orphaned descendants: a process whose parent exits
    /// is re-parented here instead of to init, so this process gets its SIGCHLD and reaps it.
    /// Preserved across `exec` (the master's reload), not inherited by children.
    /// The corresponding C function is `prctl(PR_SET_CHILD_SUBREAPER)`.
    package static func becomeChildSubreaper() throws(SystemError) {
        _ = try retrying("prctl(PR_SET_CHILD_SUBREAPER)") { cfpm_prctl_set_child_subreaper() }
    }

    /// `waitpid(pid, 0)`: waits for one given child to end; nil when it is not a child.
    /// The corresponding C function is `waitpid`.
    package static func waitFor(_ pid: pid_t) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let result = Glibc.waitpid(pid, &status, 0)
            if result == pid { return ExitStatus(raw: status) }
            if result == -1 && errno == EINTR { continue }
            return nil
        }
    }
}
