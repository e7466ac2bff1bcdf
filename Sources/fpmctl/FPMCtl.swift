import ArgumentParser
import FPMServer
import FPMSystem
import FPMConfiguration
import FastCGI
import Glibc

/// Finds the running master: a pid file given directly, or the one the configuration names.
struct MasterLocator: ParsableArguments {
    @Option(name: [.customShort("y"), .customLong("fpm-config")], help: "The master's configuration file (its pid directive names the pid file).")
    var config: String?

    @Option(name: [.customShort("p"), .customLong("prefix")], help: "Prefix for relative paths in the configuration.")
    var prefix: String?

    @Option(name: [.customShort("g"), .customLong("pid")], help: "The master's pid file.")
    var pidFile: String?

    func masterPID() throws -> pid_t {
        var path = pidFile
        if path == nil {
            let configPath = config ?? ConfigurationLoader.defaultConfigPath(prefix: prefix)
            guard let configPath else {
                throw ValidationError("no pid file: give --pid FILE or -y CONFIG (with a pid directive)")
            }
            do {
                let c = try ConfigurationLoader.load(path: configPath, prefix: prefix, environment: Processes.environment())
                path = c.global.pid
            } catch {
                throw ControlError("cannot read \(configPath): \(error)")
            }
        }
        guard let path else { throw ControlError("the configuration sets no pid file; give --pid FILE") }
        guard let bytes = FileIO.readFile(path),
              let pid = pid_t(String(decoding: bytes, as: UTF8.self).trimmingCharacters()) else {
            throw ControlError("cannot read a pid from \(path) (is the master running?)")
        }
        guard Processes.isAlive(pid) else { throw ControlError("no process \(pid) (stale pid file \(path))") }
        return pid
    }
}

struct ControlError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}

func send(_ sig: Int32, _ locator: MasterLocator) throws -> pid_t {
    let pid = try locator.masterPID()
    guard Processes.signal(pid, sig) else { throw ControlError("kill(\(pid), \(Signals.name(sig))) failed") }
    return pid
}

@main
struct FPMCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpmctl",
        abstract: "Control and inspect a running swift-fpm master.",
        subcommands: [Reload.self, Quit.self, Stop.self, Reopen.self, Status.self, Ping.self, RequestCommand.self,
                      HealthCommand.self])
}

struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reload gracefully (SIGUSR2) and wait until the new generation serves.")
    @OptionGroup var locator: MasterLocator
    @Option(help: "Seconds to wait for the new generation.") var timeout: Double = 30

    func run() throws {
        let pid = try locator.masterPID()
        let before = MasterStateFile.read(pid: pid)
        guard Processes.signal(pid, SIGUSR2) else { throw ControlError("kill(\(pid), SIGUSR2) failed") }
        let deadline = SystemClock.monotonicNanos() + Int(timeout * 1e9)
        while SystemClock.monotonicNanos() < deadline {
            SystemClock.sleep(nanos: 20_000_000)
            guard Processes.isAlive(pid) else { throw ControlError("the master (pid \(pid)) exited during the reload") }
            guard let now = MasterStateFile.read(pid: pid) else { continue }
            if let before, now.reloadFailures > before.reloadFailures {
                throw ControlError("reload failed, generation \(now.generation) keeps serving: \(now.lastReloadError)")
            }
            if now.generation > (before?.generation ?? 0) && now.phase == .running {
                print("reloaded: generation \(now.generation) is serving (pid \(pid))")
                return
            }
        }
        throw ControlError("the reload did not complete within \(timeout) s")
    }
}

struct Quit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop gracefully (SIGQUIT): in-flight requests finish.")
    @OptionGroup var locator: MasterLocator
    func run() throws { _ = try send(SIGQUIT, locator) }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop now (SIGTERM).")
    @OptionGroup var locator: MasterLocator
    func run() throws { _ = try send(SIGTERM, locator) }
}

struct Reopen: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Reopen the log files (SIGUSR1), e.g. after logrotate.")
    @OptionGroup var locator: MasterLocator
    func run() throws { _ = try send(SIGUSR1, locator) }
}

struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send a FastCGI ping request and print the answer.")
    @Option(name: .long, help: "Address: host:port, [v6]:port or a unix socket path.") var connect: String
    @Option(name: .long) var path: String = "/ping"
    @Option(name: .long) var timeout: Double = 5

    func run() throws {
        guard let address = FastCGIAddress(connect) else { throw ValidationError("bad address \(connect)") }
        let client = try FastCGIClient(connectingTo: address, timeout: timeout)
        defer { client.close() }
        let response = try client.request(params: [
            ("SCRIPT_NAME", path), ("SCRIPT_FILENAME", path), ("REQUEST_URI", path),
            ("REQUEST_METHOD", "GET"), ("QUERY_STRING", ""), ("SERVER_SOFTWARE", "fpmctl"),
        ])
        print(String(decoding: response.body, as: UTF8.self))
        if response.status != 200 { throw ExitCode(1) }
    }
}

struct RequestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "request", abstract: "Send one FastCGI request and print the response.")
    @Option(name: .long, help: "Address: host:port, [v6]:port or a unix socket path.") var connect: String
    @Option(name: .long) var method: String = "GET"
    @Option(name: .long, help: "Request URI (path?query).") var uri: String = "/"
    @Option(name: .long, help: "SCRIPT_FILENAME (default: the URI's path).") var script: String?
    @Option(name: .long, help: "Extra params NAME=VALUE.") var param: [String] = []
    @Option(name: .long, help: "Request body.") var body: String?
    @Flag(name: .long, help: "Print the response head too.") var include = false
    @Option(name: .long) var timeout: Double = 30

    func run() throws {
        guard let address = FastCGIAddress(connect) else { throw ValidationError("bad address \(connect)") }
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        let query = parts.count > 1 ? String(parts[1]) : ""
        var params: [(String, String)] = [
            ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "fpmctl"), ("REQUEST_METHOD", method),
            ("REQUEST_URI", uri), ("SCRIPT_NAME", path), ("SCRIPT_FILENAME", script ?? path),
            ("QUERY_STRING", query), ("SERVER_PROTOCOL", "HTTP/1.1"), ("REMOTE_ADDR", "127.0.0.1"),
        ]
        let bodyBytes = Array((body ?? "").utf8)
        if body != nil { params.append(("CONTENT_LENGTH", String(bodyBytes.count))) }
        for p in param {
            guard let eq = p.firstIndex(of: "=") else { throw ValidationError("--param wants NAME=VALUE") }
            params.append((String(p[..<eq]), String(p[p.index(after: eq)...])))
        }
        let client = try FastCGIClient(connectingTo: address, timeout: timeout)
        defer { client.close() }
        let response = try client.request(params: params, body: bodyBytes)
        // The head goes out the way the body does (print is buffered: piped, it would land after).
        if include {
            var head = "Status: \(response.status)\n"
            for (k, v) in response.headers { head += "\(k): \(v)\n" }
            try? FileIO.writeAll(1, head + "\n")
        }
        try? FileIO.writeAll(1, response.body)
        if !response.stderr.isEmpty { try? FileIO.writeAll(2, response.stderr) }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the pools' status from the scoreboard (works even when every worker is busy).")
    @OptionGroup var locator: MasterLocator
    @Option(name: .long, help: "Only this pool.") var pool: String?
    @Flag(name: .long, help: "Add one entry per worker.") var full = false
    @Option(name: .long, help: "text, json, xml, html or openmetrics.") var format: String = "text"

    func run() throws {
        let pid = try locator.masterPID()
        guard let fmt = StatusFormat(rawValue: format) else { throw ValidationError("unknown format \(format)") }
        let paths = MasterStateFile.scoreboardPaths(pid: pid)
        guard !paths.isEmpty else { throw ControlError("no scoreboard found for master \(pid) in \(MasterStateFile.runtimeDirectory())") }
        var printed = 0
        for path in paths {
            let board: Scoreboard
            do { board = try Scoreboard(open: path) } catch { throw ControlError("\(error)") }
            defer { board.memory.unmap() }
            if let pool, board.poolName != pool { continue }
            let (status, processes) = StatusCollector.collect(board)
            let page = StatusPage.render(pool: status, processes: processes, format: fmt, full: full)
            try? FileIO.writeAll(1, page.body)
            if fmt == .text && printed < paths.count - 1 { try? FileIO.writeAll(1, "\n") }
            printed += 1
        }
        if printed == 0 { throw ControlError("no pool named \(pool ?? "")") }
    }
}
