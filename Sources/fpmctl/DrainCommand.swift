import ArgumentParser
import FPMStatus
import FPMSystem
import Glibc

/// `fpmctl drain` / `fpmctl undrain`: readiness off (or back on) while the master keeps serving,
/// so a balancer shifts traffic before a stop or an upgrade. The master is told with a
/// real-time signal (`Signals.drain`, `Signals.undrain`: every classic signal already means
/// something) and answers through its state file (`draining=1`), as `fpmctl reload` and
/// `reopen` learn their outcome. A master whose state file has no `draining` key predates
/// drains, and a real-time signal would kill it: it is not signalled.
func setDraining(_ on: Bool, locator: MasterLocator, timeout: Double) throws {
    let pid = try locator.masterPID()
    guard let before = MasterStateFile.read(pid: pid) else {
        throw ControlError("no state file for master \(pid) in \(RuntimeDirectory.searchPaths().joined(separator: " or "))")
    }
    guard before.draining != nil else { throw ControlError("the master (pid \(pid)) predates fpmctl drain; restart it with this build") }
    guard before.phase != .finishing && before.phase != .terminating else {
        throw ControlError("the master (pid \(pid)) is stopping (readiness is already off)")
    }
    let signal = on ? Signals.drain : Signals.undrain
    guard Processes.signal(pid, signal) else { throw ControlError("kill(\(pid), \(Signals.name(signal))) failed") }
    let done = waitFor(timeout: timeout) { MasterStateFile.read(pid: pid)?.draining == on }
    guard done else { throw timedOut("the master (pid \(pid)) did not report \(on ? "draining" : "undraining") within \(TextFigures.seconds(timeout)) s") }
    print(on ? "draining: the master (pid \(pid)) answers /ready with 503 and keeps serving"
             : "undrained: the master (pid \(pid)) is ready again")
}

struct DrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Turn readiness off (/ready, ping, fpmctl health: 503/not ready) while requests are still served.")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(help: "Seconds to wait for the master's answer.") var timeout: Double = 10

    func run() throws { try setDraining(true, locator: locator.or(root.locator), timeout: timeout) }
}

struct UndrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undrain", abstract: "Turn readiness back on after fpmctl drain.")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(help: "Seconds to wait for the master's answer.") var timeout: Double = 10

    func run() throws { try setDraining(false, locator: locator.or(root.locator), timeout: timeout) }
}
