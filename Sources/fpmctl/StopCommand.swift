import ArgumentParser
import Glibc

/// `fpmctl stop`: SIGINT, php-fpm's other fast-stop signal, so it stops at once even under
/// `graceful_sigterm = yes` (which makes SIGTERM graceful). Waits until the master has exited.
struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stop", abstract: "Stop now (SIGINT, whatever graceful_sigterm says); waits until the master has exited.")
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(help: "Seconds to wait for the master to exit.") var timeout: Double = 30
    @Flag(name: .customLong("no-wait"), help: "Return once the signal is sent.") var noWait = false

    func run() throws {
        try stopMaster(locator.or(root.locator), signal: SIGINT, timeout: timeout, wait: !noWait)
    }
}
