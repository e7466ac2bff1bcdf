import FastCGI
import FastCGIClient
import Foundation
import Testing

/// The multi-host suite's network: three application hosts (10.231.S.11–13) and a database
/// host (10.231.S.20) in namespaces of their own, the front ends in the test's namespace
/// (10.231.S.1). The PHP pages sit in one folder every host serves (as a shared deploy would
/// put them); each write goes to the one table on the database host.
final class MultiHostCluster {
    let network: TestNetwork
    let database: DatabaseHost
    let www: String
    var hosts: [AppHost] = []

    /// Why the suite cannot run here (namespaces, MariaDB, php-cgi, mysqli), or nil.
    static var missing: String? {
        if let m = TestNetwork.missing { return m }
        if let m = DatabaseHost.missing { return m }
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/php-cgi8.2") else { return "php-cgi8.2 is not installed (php8.2-cgi)" }
        let mysqli = (try? FileManager.default.contentsOfDirectory(atPath: "/etc/php/8.2/cgi/conf.d"))?.contains { $0.contains("mysqli") } ?? false
        return mysqli ? nil : "PHP's mysqli for php-cgi is not installed (php8.2-mysql)"
    }

    init(hostCount: Int = 3) throws {
        if let missing = MultiHostCluster.missing { throw FPMServer.ServerError(missing) }
        network = try TestNetwork()
        database = try DatabaseHost(network: network, index: 20)
        www = TestSupport.makeTempDirectory("multihost-www")
        MultiHostCluster.writePages(www, database: database.address)
        for i in 1...hostCount {
            let host = try AppHost(name: "app\(i)", index: 10 + i, network: network, www: www)
            try host.start()
            hosts.append(host)
        }
    }

    var addresses: [String] { hosts.map(\.address) }

    /// write.php (a POST with `token`: one row, answers `wrote TOKEN BYTES`) and read.php (a
    /// GET: `rows N`); both sleep `ms` milliseconds first when asked (a scenario's service time).
    static func writePages(_ www: String, database: String) {
        let connect = "$db = new mysqli('\(database)', 'app', 'app', 'multihost');"
        let pause = "if (isset($_GET['ms'])) usleep(intval($_GET['ms']) * 1000);"
        TestSupport.write(www + "/write.php", """
        <?php
        \(pause)
        $token = $_GET['token'] ?? '';
        $source = $_GET['source'] ?? 'php';
        $body = file_get_contents('php://input');
        if ($token === '') { http_response_code(400); echo "no token\\n"; exit; }
        \(connect)
        $st = $db->prepare('INSERT INTO writes (token, source, bytes) VALUES (?, ?, ?)');
        $n = strlen($body);
        $st->bind_param('ssi', $token, $source, $n);
        $st->execute();
        echo "wrote $token $n\\n";

        """)
        TestSupport.write(www + "/read.php", """
        <?php
        \(pause)
        \(connect)
        $r = $db->query('SELECT COUNT(*) FROM writes')->fetch_row();
        echo "rows {$r[0]}\\n";

        """)
    }

    /// Waits until every host's pools answer `/ready` 200 on their status listeners.
    func waitAllReady(timeout: Double = 20) -> Bool {
        TestSupport.waitUntil(timeout: timeout, interval: 0.1) { hosts.allSatisfy { isReady($0) } }
    }

    func isReady(_ host: AppHost) -> Bool {
        [AppHost.swiftStatusPort, AppHost.phpStatusPort].allSatisfy { port in
            guard let c = try? ReadinessProbe.request(address: "\(host.address):\(port)", uri: "/ready") else { return false }
            return c == 200
        }
    }

    deinit {
        hosts.forEach { $0.stop() }
        network.remove()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: www) }
    }
}

/// One FastCGI GET to `address`, for the readiness probes: the status code.
enum ReadinessProbe {
    static func request(address: String, uri: String) throws -> Int {
        let c = try FastCGIClient(connectingTo: FastCGIAddress(address)!, timeout: 2)
        defer { c.close() }
        return try c.request(params: TestSupport.params(uri: uri)).status
    }
}
