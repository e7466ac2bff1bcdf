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

    /// How many descriptors this process may have open (the soft RLIMIT_NOFILE).
    /// The corresponding C function is `getrlimit`.
    package static var descriptorLimit: Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
        return limit.rlim_cur == rlim_t.max ? Int.max : Int(clamping: limit.rlim_cur)
    }
}
