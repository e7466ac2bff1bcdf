import Foundation
import Testing

/// Several hosts behind one balancer (issue 20): three swift-fpm hosts (a Swift pool and a PHP
/// pool each) and a MariaDB host in network namespaces, behind nginx, HAProxy and Caddy in
/// turn, under a load of POSTs (writes to the one shared table) and GETs, while hosts are
/// reloaded, upgraded, stopped, killed and saturated. Each scenario prints its figures
/// (docs/DEPLOYMENT.md quotes them) and checks every answered write landed exactly once.
///
/// Runs only under `make test-multihost` (FPM_MULTIHOST=1; `make test` includes it): it needs
/// root for the namespaces and takes a few minutes. Where it cannot run it fails, saying why.
enum MultiHost {
    static var enabled: Bool { ProcessInfo.processInfo.environment["FPM_MULTIHOST"] == "1" }
    /// FPM_MULTIHOST_ONLY=nginx,caddy narrows a run by hand (php-fpm: its figures); default all.
    static var only: [String]? { ProcessInfo.processInfo.environment["FPM_MULTIHOST_ONLY"]?.split(separator: ",").map(String.init) }
    static var frontEnds: [MultiHostFrontEndKind] { MultiHostFrontEndKind.allCases.filter { only?.contains($0.rawValue) ?? true } }
    static var phpFPM: Bool { only?.contains("php-fpm") ?? true }
}

@Suite(.serialized, .enabled(if: MultiHost.enabled))
struct MultiHostTests {
    @Test("the multi-host suite can run here: root, ip, MariaDB, php-cgi with mysqli")
    func prerequisites() {
        #expect(MultiHostCluster.missing == nil, "the multi-host suite cannot run: \(MultiHostCluster.missing ?? "")")
    }

    @Test("three hosts behind nginx, HAProxy and Caddy: reloads, upgrades, stops, kills and saturation under load")
    func scenarios() throws {
        try #require(MultiHostCluster.missing == nil, "the multi-host suite cannot run: \(MultiHostCluster.missing ?? "")")
        let started = Date()
        let cluster = try MultiHostCluster()
        try #require(cluster.waitAllReady(), "hosts not ready: \(cluster.hosts.map(\.log))")
        let runner = MultiHostScenarios(cluster: cluster)
        for kind in MultiHost.frontEnds {
            let frontEnd = try MultiHostFrontEnd(kind, addresses: cluster.addresses, www: cluster.www)
            try runner.warmUp(frontEnd)
            try runner.rollingReload(frontEnd)
            try runner.rollingUpgrade(frontEnd)
            try runner.quitOneHost(frontEnd)
            try runner.drainAndStop(frontEnd)
            try runner.saturate(frontEnd)
            try runner.killOneHost(frontEnd)
        }
        if MultiHost.phpFPM { try runner.phpFPMFigures() }
        print("multihost: \(runner.figures.count) scenarios in \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
        for line in runner.figures { print("multihost: " + line) }
    }
}
