import FPMSystem
import Glibc

// The state the signal handler below reads. It lives in globals because a C signal handler can
// capture nothing; they are written only outside the handler, while it is not installed (the
// saved dispositions) or with plain stores (the group), and hold plain data.
@exclusivity(unchecked) nonisolated(unsafe) var cgiRunningGroup: pid_t = 0
/// SIGTERM's and SIGINT's dispositions from before `CGIGroupGuard.arm`; nil when they could not
/// be read (the handler then falls back to the default action).
@exclusivity(unchecked) nonisolated(unsafe) var cgiSavedTerminate: SignalDisposition? = nil
@exclusivity(unchecked) nonisolated(unsafe) var cgiSavedInterrupt: SignalDisposition? = nil

/// SIGTERM/SIGINT to the worker (the master's stop, and its request_terminate_timeout)
/// while a CGI script runs: kill the script's whole process group first, then let the signal
/// do what it did before. Async-signal-safe calls only.
private func cgiTerminationSignal(_ sig: Int32) {
    Spawn.signalGroup(cgiRunningGroup, SIGKILL)
    if let saved = sig == SIGTERM ? cgiSavedTerminate : cgiSavedInterrupt {
        Signals.restore(sig, saved)
    } else {
        Signals.setDefault(sig)
    }
    Signals.raise(sig)
}

/// Makes sure a CGI script's process group does not outlive the worker that started it when
/// the worker is told to terminate: while `group` is set, SIGTERM and SIGINT kill the group and
/// then take their previous course (the script itself also gets SIGKILL from the kernel if the
/// worker dies any other way: it runs with PR_SET_PDEATHSIG).
enum CGIGroupGuard {
    /// Installs the handlers (saving the previous dispositions). Call before starting a script.
    static func arm() {
        cgiRunningGroup = 0
        cgiSavedTerminate = try? Signals.disposition(SIGTERM)
        cgiSavedInterrupt = try? Signals.disposition(SIGINT)
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
        if let saved = cgiSavedTerminate { Signals.restore(SIGTERM, saved) } else { Signals.setDefault(SIGTERM) }
        if let saved = cgiSavedInterrupt { Signals.restore(SIGINT, saved) } else { Signals.setDefault(SIGINT) }
    }
}
