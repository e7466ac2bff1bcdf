import ArgumentParser
import FPMStatus
import FPMSystem
import Glibc

/// `fpmctl reopen`: SIGUSR1, then the master's state file tells whether every log reopened
/// (it counts reopens and keeps the last one's failures), so logrotate learns of a failure.
struct ReopenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reopen", abstract: "Reopen the log files (SIGUSR1), e.g. after logrotate; fails when a log could not be reopened.")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(help: "Seconds to wait for the master's answer.") var timeout: Double = 10

    func run() throws {
        let pid = try locator.or(root.locator).masterPID()
        let before = MasterStateFile.read(pid: pid)
        guard Processes.signal(pid, SIGUSR1) else { throw ControlError("kill(\(pid), SIGUSR1) failed") }
        var answer: MasterStateFile? = nil
        let done = waitFor(timeout: timeout) {
            guard let now = MasterStateFile.read(pid: pid) else { return false }
            // A reload in between restarts the count in the new image.
            if now.reopens > (before?.reopens ?? 0) || now.generation != before?.generation && now.reopens > 0 {
                answer = now
                return true
            }
            return false
        }
        guard done, let answer else { throw timedOut("the master (pid \(pid)) did not report reopening its logs within \(TextFigures.seconds(timeout)) s") }
        if !answer.lastReopenError.isEmpty {
            throw ControlError("the master (pid \(pid)) could not reopen: \(answer.lastReopenError)")
        }
        print("reopened: the master (pid \(pid)) reopened its logs")
    }
}
