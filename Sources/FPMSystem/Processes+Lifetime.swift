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
