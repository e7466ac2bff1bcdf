import ArgumentParser
import FPMConfiguration
import FPMStatus
import FPMSystem
import FastCGI
import FastCGIClient

/// `fpmctl ping`: a FastCGI request to a pool's `ping.path`, as a load balancer's health
/// check would send it. It fails (exit 1) when the pool has no `ping.path`, when the answer
/// is not 200, or when its body is not the pool's `ping.response`.
struct PingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Ping the pools (their ping.path) and check the answer is their ping.response.",
        discussion: """
        With -y (or the default configuration), every pool (or --pool NAME) is pinged at its \
        listen address with its ping.path and ping.response. With --connect ADDRESS and no \
        configuration, --path and --response say what to ask and expect.
        """)
    @OptionGroup var locator: MasterLocator
    @ParentCommand var root: FPMCtl
    @Option(name: .long, help: "Address: host:port, [v6]:port or a unix socket path (default: the pool's listen).") var connect: String?
    @Option(name: .long, help: "Only this pool of the configuration.") var pool: String?
    @Option(name: .long, help: "The ping path when no configuration says (default /ping).") var path: String?
    @Option(name: .long, help: "The expected answer when no configuration says (default pong).") var response: String?
    @Option(name: .long) var timeout: Double = 5

    struct Target {
        var pool: String?
        var address: FastCGIAddress
        var path: String
        var response: String
    }

    func run() throws {
        var failures = 0
        for target in try targets() {
            let label = target.pool.map { "pool \($0)" } ?? "\(target.address)"
            do {
                let answer = try ask(target)
                if answer.status != 200 {
                    printError("fpmctl: \(label): \(target.path) answered status \(answer.status)")
                    failures += 1
                } else if answer.bodyText.trimmingCharacters() != target.response {
                    printError("fpmctl: \(label): \(target.path) answered \"\(String(answer.bodyText.trimmingCharacters().prefix(80)))\", not the ping.response \"\(target.response)\"")
                    failures += 1
                } else {
                    print("\(label): \(target.response)")
                }
            } catch {
                printError("fpmctl: \(label): \(error)")
                failures += 1
            }
        }
        if failures > 0 { throw ExitCode.failure }
    }

    func targets() throws -> [Target] {
        let locator = self.locator.or(root.locator)
        let explicitAddress = try connect.map { text -> FastCGIAddress in
            guard let a = FastCGIAddress(text) else { throw ValidationError("bad address \(text)") }
            return a
        }
        // Only --connect: nothing to read; the caller says what to expect.
        if let explicitAddress, locator.config == nil, pool == nil {
            return [Target(pool: nil, address: explicitAddress, path: path ?? "/ping", response: response ?? "pong")]
        }
        guard let configPath = locator.configurationPath() else {
            throw ValidationError("give -y CONFIG (the pools' ping.path) or --connect ADDRESS")
        }
        let configuration = try locator.loadConfiguration(configPath)
        let pools = configuration.pools.filter { pool == nil || $0.name == pool }
        if pools.isEmpty { throw ControlError("no pool named \(pool ?? "") in \(configPath)") }
        return try pools.map { p in
            guard let pingPath = p.pingPath else {
                throw ControlError("pool \(p.name) has no ping.path in \(configPath): nothing answers a ping")
            }
            guard let address = explicitAddress ?? FastCGIAddress(p.listen.connectText) else {
                throw ControlError("pool \(p.name): cannot connect to \(p.listen)")
            }
            return Target(pool: p.name, address: address, path: pingPath, response: response ?? p.pingResponse)
        }
    }

    func ask(_ target: Target) throws -> FastCGIResponse {
        let client = try FastCGIClient(connectingTo: target.address, timeout: timeout)
        defer { client.close() }
        return try client.request(params: [
            ("SCRIPT_NAME", target.path), ("SCRIPT_FILENAME", target.path), ("REQUEST_URI", target.path),
            ("REQUEST_METHOD", "GET"), ("QUERY_STRING", ""), ("SERVER_SOFTWARE", "fpmctl"),
        ])
    }
}

extension ListenAddress {
    /// Where a client on this host connects to reach this listen address (a wildcard listen
    /// is reached on the loopback address).
    var connectText: String {
        switch self {
        case .tcp(let host, let port):
            if host.isEmpty { return "127.0.0.1:\(port)" }
            return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path):
            return path
        }
    }
}
