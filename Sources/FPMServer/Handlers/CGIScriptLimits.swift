// How a cgi script that ran into its resource limits (cgi.rlimit_as, cgi.rlimit_cpu) is told
// apart from one that failed on its own: the CPU limit has its own signal and its own answer (504).
import FPMSystem
import Glibc

extension ResourceLimits {
    /// Whether the script ended on the signal RLIMIT_CPU sends: SIGXCPU when its time is up,
    /// SIGKILL a second later if it ignored that (only counted when the limit is set).
    func stoppedByCPULimit(_ status: ExitStatus) -> Bool {
        guard cpuSeconds != nil, case .signaled(let signal, _) = status else { return false }
        return signal == SIGXCPU || signal == SIGKILL
    }
}
