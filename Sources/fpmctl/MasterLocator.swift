import ArgumentParser
import FPMConfiguration
import FPMStatus
import FPMSystem

/// Finds the running master: a pid file given directly, the one the configuration names, or
/// the only master whose state file is in the runtime directory (a master started with the
/// embedded default configuration, `swift run fpm`, writes no pid file).
struct MasterLocator: ParsableArguments {
    @Option(name: [.customShort("y"), .customLong("fpm-config")], help: "The master's configuration file (its pid directive names the pid file).")
    var config: String?

    @Option(name: [.customShort("p"), .customLong("prefix")], help: "Prefix for relative paths in the configuration.")
    var prefix: String?

    @Option(name: [.customShort("g"), .customLong("pid")], help: "The master's pid file.")
    var pidFile: String?

    /// These options as given after the subcommand, completed by those given before it.
    func or(_ root: MasterLocator) -> MasterLocator {
        var merged = self
        merged.config = config ?? root.config
        merged.prefix = prefix ?? root.prefix
        merged.pidFile = pidFile ?? root.pidFile
        return merged
    }

    /// The configuration in force for fpmctl: -y, else the default file; nil when neither is.
    func configurationPath() -> String? {
        config ?? ConfigurationLoader.defaultConfigPath(prefix: prefix)
    }

    func loadConfiguration(_ path: String) throws -> FPMConfiguration {
        do {
            return try ConfigurationLoader.load(path: path, prefix: prefix, environment: Processes.environment())
        } catch {
            throw ControlError("\(error)")
        }
    }

    func masterPID() throws -> Int32 {
        var path = pidFile
        var source = "--pid"
        if path == nil, let configPath = configurationPath() {
            path = try loadConfiguration(configPath).global.pid
            source = configPath
            if path == nil && config != nil {
                throw ControlError("\(configPath) sets no pid file; give --pid FILE")
            }
        }
        guard let path else { return try onlyRunningMaster() }
        do {
            return try MasterLocator.readPID(path, source: source)
        } catch {
            // A default configuration found by chance (conf/fpm.conf in this directory) is no
            // promise: a master started otherwise may still be the only one running.
            if pidFile == nil && config == nil, let pid = try? onlyRunningMaster() { return pid }
            throw error
        }
    }

    static func readPID(_ path: String, source: String) throws -> Int32 {
        guard let bytes = FileIO.readFile(path),
              let pid = Int32(String(decoding: bytes, as: UTF8.self).trimmingCharacters()) else {
            throw ControlError("cannot read a pid from \(path) (from \(source); is the master running?)")
        }
        guard Processes.isAlive(pid), !ProcessSample.hasExited(pid) else {
            throw ControlError("no process \(pid) (stale pid file \(path))")
        }
        return pid
    }

    /// The one live master whose state file is in a runtime directory fpmctl searches.
    func onlyRunningMaster() throws -> Int32 {
        let directories = RuntimeDirectory.searchPaths()
        var masters: [Int32] = []
        var closed: [String] = []
        for directory in directories {
            if FileSystem.isDirectory(directory) && !FileSystem.canAccess(directory, [.read, .execute]) { closed.append(directory) }
            for name in FileSystem.entries(of: directory) where name.hasPrefix("swift-fpm.") && name.hasSuffix(".state") {
                let middle = name.dropFirst("swift-fpm.".count).dropLast(".state".count)
                guard let pid = Int32(middle), Processes.isAlive(pid), !ProcessSample.hasExited(pid), !masters.contains(pid) else { continue }
                masters.append(pid)
            }
        }
        switch masters.count {
        case 1: return masters[0]
        case 0:
            let denied = closed.isEmpty ? "" : "; \(closed.joined(separator: ", ")) is not readable by this user (run as the master's user or a member of its status.group)"
            throw ControlError("no running master found (no pid file configured, no state file in \(directories.joined(separator: " or "))\(denied)); give --pid FILE or -y CONFIG")
        default: throw ControlError("several masters run (\(masters.sorted().map(String.init).joined(separator: ", "))); give --pid FILE or -y CONFIG")
        }
    }
}

/// fpmctl's exit codes beyond 0 (done) and 1 (failed, with a message).
enum ControlExit: Int32 {
    /// The master did not get there within --timeout (EX_TEMPFAIL: it may still).
    case timeout = 75
}

struct ControlError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Prints why to stderr and exits with `ControlExit.timeout`.
func timedOut(_ message: String) -> ExitCode {
    printError("fpmctl: \(message)")
    return ExitCode(ControlExit.timeout.rawValue)
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` seconds pass.
func waitFor(timeout: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = SystemClock.monotonicNanos() + Int(timeout * 1e9)
    while true {
        if try condition() { return true }
        if SystemClock.monotonicNanos() >= deadline { return false }
        SystemClock.sleep(nanos: 20_000_000)
    }
}

/// Signals the master, then waits until it has exited: what `quit` and `stop` share.
func stopMaster(_ locator: MasterLocator, signal: Int32, timeout: Double, wait: Bool) throws {
    let pid = try locator.masterPID()
    guard Processes.signal(pid, signal) else { throw ControlError("kill(\(pid), \(Signals.name(signal))) failed") }
    guard wait else { return }
    guard waitFor(timeout: timeout, { ProcessSample.hasExited(pid) }) else {
        throw timedOut("the master (pid \(pid)) is still running \(TextFigures.seconds(timeout)) s after \(Signals.name(signal))")
    }
    print("stopped: the master (pid \(pid)) has exited")
}

enum TextFigures {
    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
