import Foundation
import Testing

/// The multi-host suite's database host: MariaDB (Debian's mariadb-server) started by the
/// test in its own namespace on a fresh datadir, listening on the host's address. It holds the
/// one table every PHP page and the Swift pool write to, `multihost.writes`, one row per write
/// with the token the load generator made for it: a token seen twice is a write done twice.
final class DatabaseHost {
    static let daemon = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let installDB = ["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let client = ["/usr/bin/mariadb", "/usr/bin/mysql"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static var missing: String? {
        daemon == nil || installDB == nil || client == nil
            ? "MariaDB is not installed (mariadb-server, mariadb-client): `make test-multihost` installs it" : nil
    }

    let network: TestNetwork
    let namespace: String
    let address: String
    let dir: String
    var child: ChildProcess!
    var socketPath: String { dir + "/mysqld.sock" }

    init(network: TestNetwork, index: Int) throws {
        if let missing = DatabaseHost.missing { throw FPMServer.ServerError(missing) }
        self.network = network
        (namespace, address) = try network.addHost("db", index: index)
        dir = TestSupport.makeTempDirectory("multihost-db")
        let install = try runCommand(DatabaseHost.installDB!, [
            "--no-defaults", "--datadir=\(dir)/data", "--user=root", "--auth-root-authentication-method=socket",
            "--skip-test-db", "--skip-name-resolve",
        ], timeout: 60)
        guard install.status == 0 else { throw FPMServer.ServerError("mariadb-install-db failed: \(install.stderr)\(install.stdout)") }
        // Run once at every start: the application's user (from the other hosts' addresses),
        // the database and the shared table.
        TestSupport.write(dir + "/init.sql", """
        CREATE DATABASE IF NOT EXISTS multihost;
        CREATE USER IF NOT EXISTS 'app'@'10.231.%' IDENTIFIED BY 'app';
        GRANT ALL ON multihost.* TO 'app'@'10.231.%';
        CREATE TABLE IF NOT EXISTS multihost.writes (
            seq BIGINT AUTO_INCREMENT PRIMARY KEY,
            token VARCHAR(120) NOT NULL,
            source VARCHAR(16) NOT NULL,
            bytes INT NOT NULL,
            KEY (token)
        ) ENGINE=InnoDB;

        """)
        child = try network.spawn(in: namespace, DatabaseHost.daemon!, [
            "--no-defaults", "--datadir=\(dir)/data", "--user=root", "--socket=\(socketPath)", "--pid-file=\(dir)/mysqld.pid",
            "--bind-address=\(address)", "--port=3306", "--skip-name-resolve", "--init-file=\(dir)/init.sql",
            "--max-connections=1000", "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=2",
            "--skip-log-bin", "--log-error=\(dir)/mysqld.err",
        ], directory: dir)
        let ok = TestSupport.waitUntil(timeout: 30, interval: 0.1) {
            !child.process.isRunning || ((try? query("SELECT COUNT(*) FROM multihost.writes")) != nil)
        }
        guard ok, child.process.isRunning else {
            throw FPMServer.ServerError("mariadbd did not start: \(TestSupport.read(dir + "/mysqld.err"))")
        }
    }

    /// Runs `sql` as root over the unix socket (the test's own bookkeeping, not a request path);
    /// returns the rows, tab-separated columns.
    @discardableResult
    func query(_ sql: String) throws -> [[String]] {
        let r = try runCommand(DatabaseHost.client!, ["--no-defaults", "--socket=\(socketPath)", "-uroot", "-N", "-B", "-e", sql],
                               timeout: 30)
        guard r.status == 0 else { throw FPMServer.ServerError("mariadb: \(sql): \(r.stderr)") }
        return r.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// How many rows carry each token starting with `prefix`.
    func tokenCounts(prefix: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try query("SELECT token, COUNT(*) FROM multihost.writes WHERE token LIKE '\(prefix)%' GROUP BY token")
        where row.count == 2 {
            counts[row[0]] = Int(row[1]) ?? 0
        }
        return counts
    }

    deinit {
        child?.stop()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }
}
