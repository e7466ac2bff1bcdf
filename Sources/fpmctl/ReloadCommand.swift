import ArgumentParser
import FPMStatus
import FPMSystem
import Glibc

/// `fpmctl reload`: SIGUSR2, then the state file tells when the new generation serves, or why
/// the reload was refused (the running generation then keeps serving).
struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Reload gracefully (SIGUSR2) and wait until the new generation serves.")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    /// Longer than a pool preparation may run (60 s) plus the new generation's start.
    @Option(help: "Seconds to wait for the new generation (a pool preparation may take up to 60 s).") var timeout: Double = 90

    func run() throws {
        let pid = try locator.or(root.locator).masterPID()
        let before = MasterStateFile.read(pid: pid)
        guard Processes.signal(pid, SIGUSR2) else { throw ControlError("kill(\(pid), SIGUSR2) failed") }
        var outcome: Result<MasterStateFile, ControlError>? = nil
        let done = waitFor(timeout: timeout) {
            guard Processes.isAlive(pid), !ProcessSample.hasExited(pid) else {
                outcome = .failure(ControlError("the master (pid \(pid)) exited during the reload"))
                return true
            }
            guard let now = MasterStateFile.read(pid: pid) else { return false }
            if let before, now.reloadFailures > before.reloadFailures {
                outcome = .failure(ControlError("reload failed, generation \(now.generation) keeps serving: \(now.lastReloadError)"))
                return true
            }
            if now.generation > (before?.generation ?? 0) && now.phase == .running {
                outcome = .success(now)
                return true
            }
            return false
        }
        guard done, let outcome else {
            let preparing = MasterStateFile.read(pid: pid)?.preparing ?? ""
            throw timedOut("the reload did not complete within \(TextFigures.seconds(timeout)) s"
                           + (preparing.isEmpty ? "" : " (pool \(preparing) is still preparing)"))
        }
        let state = try outcome.get()
        print("reloaded: generation \(state.generation) is serving (pid \(pid))")
    }
}
