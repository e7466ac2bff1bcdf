import ArgumentParser
import Glibc

/// `fpmctl quit`: SIGQUIT; in-flight requests finish, then the master exits. Waits for that.
struct QuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quit", abstract: "Stop gracefully (SIGQUIT): in-flight requests finish; waits until the master has exited.")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(help: "Seconds to wait for the master to exit.") var timeout: Double = 60
    @Flag(name: .customLong("no-wait"), help: "Return once the signal is sent.") var noWait = false

    func run() throws {
        try stopMaster(locator.or(root.locator), signal: SIGQUIT, timeout: timeout, wait: !noWait)
    }
}
