import FPMSystem
import CFPMShims
import Glibc

// Read by the signal handler below: plain globals, written only outside it.
@exclusivity(unchecked) nonisolated(unsafe) var cgiRunningGroup: pid_t = 0
@exclusivity(unchecked) nonisolated(unsafe) var cgiSavedActions: UnsafeMutablePointer<sigaction>? = nil

/// SIGTERM/SIGINT to the worker (the master's stop, and its request_terminate_timeout)
/// while a CGI script runs: kill the script's whole process group first, then let the signal
/// do what it did before.
private func cgiTerminationSignal(_ sig: Int32) {
    let group = cgiRunningGroup
    if group > 1 { _ = kill(-group, SIGKILL) }
    if let saved = cgiSavedActions {
        _ = sigaction(sig, saved + (sig == SIGTERM ? 0 : 1), nil)
    } else {
        _ = cfpm_sigaction_default(sig)
    }
    _ = raise(sig)
}

/// Makes sure a CGI script's process group does not outlive the worker that started it when
/// the worker is told to terminate: while `group` is set, SIGTERM and SIGINT kill the group and
/// then take their previous course (the script itself also gets SIGKILL from the kernel if the
/// worker dies any other way: it runs with PR_SET_PDEATHSIG).
enum CGIGroupGuard {
    /// Installs the handlers (saving the previous dispositions). Call before starting a script.
    static func arm() {
        if cgiSavedActions == nil {
            let p = UnsafeMutablePointer<sigaction>.allocate(capacity: 2)
            p.initialize(repeating: sigaction(), count: 2)
            cgiSavedActions = p
        }
        cgiRunningGroup = 0
        _ = sigaction(SIGTERM, nil, cgiSavedActions!)
        _ = sigaction(SIGINT, nil, cgiSavedActions! + 1)
        Signals.handle(SIGTERM, restart: true) { cgiTerminationSignal($0) }
        Signals.handle(SIGINT, restart: true) { cgiTerminationSignal($0) }
    }

    /// The running script's process group (0: none).
    static func watch(_ group: pid_t) {
        cgiRunningGroup = group
    }

    /// Restores the previous dispositions. Call once the group is dead.
    static func disarm() {
        cgiRunningGroup = 0
        guard let saved = cgiSavedActions else { return }
        _ = sigaction(SIGTERM, saved, nil)
        _ = sigaction(SIGINT, saved + 1, nil)
    }
}
