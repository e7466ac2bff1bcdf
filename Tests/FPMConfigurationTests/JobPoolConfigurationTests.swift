import FPMConfiguration
import Gearman
import Testing

/// Job pools: `gearman.servers` and no `listen`; what cannot mean anything there is an error
/// naming file, line and directive.
@Suite struct JobPoolConfigurationTests {
    static let jobPool = """
        [jobs]
        gearman.servers = 127.0.0.1:4730, [::1]:4731, gm.local
        pm = static
        pm.max_children = 3
        handler = sync

        """

    @Test func aPoolWithServersAndNoListenIsAJobPool() throws {
        let pool = try load(Self.jobPool).pools[0]
        #expect(pool.isJobPool)
        #expect(pool.gearmanServers == [GearmanServerAddress(host: "127.0.0.1", port: 4730), GearmanServerAddress(host: "::1", port: 4731),
                                        GearmanServerAddress(host: "gm.local", port: 4730)])
        // Without gearman.functions, a Swift job pool registers its handler's name.
        #expect(pool.effectiveGearmanFunctions == ["sync"])
        #expect(try !load(minimalPool).pools[0].isJobPool)
    }

    @Test func functionsAreAList() throws {
        let pool = try load(Self.jobPool + "gearman.functions = syncToRedis , reverse\n").pools[0]
        #expect(pool.effectiveGearmanFunctions == ["syncToRedis", "reverse"])
    }

    @Test(arguments: ["", "127.0.0.1:0", "host:port", "::1:4730", "a b:1"])
    func aBadServerListNamesItsLine(_ value: String) {
        let found = errors(Self.jobPool + "gearman.servers = \(value)\n")
        #expect(found.contains { $0.contains("t.conf:6") && $0.contains("gearman.servers") }, "\(found)")
    }

    @Test func aJobPoolWithListenIsRefused() {
        let found = errors(Self.jobPool + "listen = 127.0.0.1:9000\n")
        #expect(found.count == 1 && found[0].contains("t.conf:6") && found[0].contains("listen") && found[0].contains("job pool"), "\(found)")
    }

    @Test func aFastCGIPoolWithFunctionsIsRefused() {
        let found = errors(minimalPool + "gearman.functions = a\n")
        #expect(found.count == 1 && found[0].contains("t.conf:6") && found[0].contains("gearman.functions"), "\(found)")
    }

    @Test func anExecJobPoolMustNameItsFunctions() throws {
        let text = "[jobs]\ngearman.servers = 127.0.0.1:4730\npm = static\npm.max_children = 1\nexec = php worker.php\n"
        let found = errors(text)
        #expect(found.count == 1 && found[0].contains("gearman.functions") && found[0].contains("exec job pool"), "\(found)")
        #expect(try load(text + "gearman.functions = syncToRedis\n").pools[0].effectiveGearmanFunctions == ["syncToRedis"])
    }

    @Test func anExecJobPoolIsStatic() {
        let text = "[jobs]\ngearman.servers = 127.0.0.1:4730\npm = ondemand\npm.max_children = 2\nexec = php worker.php\ngearman.functions = f\n"
        let found = errors(text)
        #expect(found.count == 1 && found[0].contains("t.conf:3") && found[0].contains("pm = static"), "\(found)")
    }

    @Test(arguments: ["pm.status_path = /status", "ping.path = /ping", "pm.max_queue_wait = 200ms", "listen.backlog = 10",
                      "listen.allowed_clients = 127.0.0.1", "request_read_timeout = 5s", "security.limit_extensions = .php"])
    func directivesWithoutMeaningAreRefused(_ line: String) {
        let found = errors(Self.jobPool + line + "\n")
        let directive = String(line.prefix { $0 != " " })
        #expect(found.count == 1 && found[0].contains("t.conf:6") && found[0].contains(directive) && found[0].contains("job pool"), "\(found)")
    }

    @Test func renderingReadsBackAsTheSameJobPool() throws {
        let configuration = try load(Self.jobPool + "gearman.functions = a, b\nrequest_terminate_timeout = 5s\n")
        let text = configuration.renderEffective()
        #expect(text.contains("127.0.0.1:4730, [::1]:4731, gm.local:4730"), "\(text)")
        #expect(!text.contains("\nlisten"))
        let again = try load(text)
        #expect(again.pools[0] == configuration.pools[0])
    }
}
