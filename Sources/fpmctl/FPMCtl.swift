import ArgumentParser
import FPMStatus
import FPMSystem

/// `fpmctl`: control and inspect a running swift-fpm master. The options that find the master
/// (`-y`, `--pid`, `-p`) are the root's as well as each subcommand's, so they may come before
/// the subcommand (`fpmctl -y conf/fpm.conf reload`, as with `git -C`) or after it.
@main
struct FPMCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpmctl",
        abstract: "Control and inspect a running swift-fpm master.",
        discussion: """
        The master is found from --pid FILE, else from the pid directive of the configuration \
        (-y FILE, else conf/fpm.conf or /etc/swift-fpm/fpm.conf), else as the only running master \
        that left its state file in a runtime directory (SWIFT_FPM_RUNTIME_DIR; else this user's, \
        $XDG_RUNTIME_DIR/swift-fpm or /dev/shm/swift-fpm-UID, then root's /run/swift-fpm). Reading a \
        master's status takes its user or a member of its status.group.

        Exit codes: 0 done; 1 failed (the message says why); \(ControlExit.timeout.rawValue) the \
        master did not finish within --timeout; 64 bad usage.
        """,
        version: "fpmctl (swift-fpm) \(swiftFPMVersion)",
        subcommands: [
            ReloadCommand.self, QuitCommand.self, StopCommand.self, ReopenCommand.self,
            StatusCommand.self, TopCommand.self, PingCommand.self, RequestCommand.self,
            // Subcommands other features add go here, one a line.
            HealthCommand.self,
            DrainCommand.self, UndrainCommand.self,
        ])

    @OptionGroup var locator: MasterLocator
}

/// A line on standard error (fpmctl's messages; the server has its own in Launcher).
func printError(_ s: String) {
    try? FileIO.writeAll(2, s + "\n")
}
