import Foundation

/// Debian's MariaDB on a fresh datadir in the test's folder, on a free port and a unix socket,
/// its plugin dir a private folder holding the project's Gearman UDF (`make gearman-udf`), and
/// the example's schema.sql loaded into database `sync`.
final class MariaDB {
    static let daemon = ["/usr/sbin/mariadbd", "/usr/sbin/mysqld"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let installDB = ["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let client = ["/usr/bin/mariadb", "/usr/bin/mysql"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let udf = Services.repositoryDir + "/.build/gearman-udf/gearman_udf.so"

    let services: Services
    let port = Services.freePort()
    var socket: String { services.dir + "/mysqld.sock" }

    init(_ services: Services, gearmand: Gearmand) throws {
        guard let daemon = Self.daemon, let installDB = Self.installDB, Self.client != nil else {
            throw Services.Failure(description: "MariaDB is not installed (mariadb-server): make test-redis-sync installs it")
        }
        self.services = services
        // The UDF, built by make (no-op when up to date), in a plugin dir of our own.
        try services.run("/usr/bin/make", ["--no-print-directory", "-s", "-C", Services.repositoryDir, "gearman-udf"])
        let plugins = services.dir + "/plugin"
        try FileManager.default.createDirectory(atPath: plugins, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.udf, toPath: plugins + "/gearman_udf.so")
        try services.run(installDB, [
            "--no-defaults", "--datadir=\(services.dir)/data", "--user=root", "--auth-root-authentication-method=socket",
            "--skip-test-db", "--skip-name-resolve",
        ])
        let child = try services.start(daemon, [
            "--no-defaults", "--datadir=\(services.dir)/data", "--user=root", "--socket=\(socket)",
            "--pid-file=\(services.dir)/mysqld.pid", "--plugin-dir=\(plugins)", "--bind-address=127.0.0.1",
            "--port=\(port)", "--skip-name-resolve", "--innodb-buffer-pool-size=32M",
            "--innodb-flush-log-at-trx-commit=2", "--skip-log-bin", "--log-error=\(services.dir)/mysqld.err",
        ], log: "mysqld.out")
        guard Services.waitUntil(timeout: 60, { !child.isRunning || (try? self.query("SELECT 1", database: nil)) != nil }), child.isRunning else {
            throw Services.Failure(description: "mariadbd did not start: \(services.read("mysqld.err"))")
        }
        try query("CREATE DATABASE sync", database: nil)
        try services.run(Self.client!, arguments(database: "sync"), input: try String(contentsOfFile: Services.exampleDir + "/schema.sql", encoding: .utf8))
        try query("SELECT gman_servers_set('\(gearmand.server)')")
    }

    func arguments(database: String?) -> [String] {
        ["--no-defaults", "--socket=\(socket)", "-uroot", "-N", "-B"] + (database.map { [$0] } ?? [])
    }

    /// Runs `sql`; the rows, tab-separated columns.
    @discardableResult
    func query(_ sql: String, database: String? = "sync") throws -> [[String]] {
        try services.run(Self.client!, arguments(database: database) + ["-e", sql])
            .split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Runs each script in a session of its own, all at once; throws when one failed.
    func runConcurrently(_ scripts: [String]) throws {
        var children: [Child] = []
        for (i, script) in scripts.enumerated() {
            try services.write("session\(i).sql", script)
            children.append(try services.start(Self.client!, arguments(database: "sync") + ["-e", "source \(services.dir)/session\(i).sql"],
                                               log: "session\(i).log"))
        }
        guard Services.waitUntil(timeout: 300, { children.allSatisfy { !$0.isRunning } }) else {
            throw Services.Failure(description: "the SQL sessions did not finish in 300 s")
        }
        for (i, child) in children.enumerated() where child.exitStatus != 0 {
            throw Services.Failure(description: "SQL session \(i) failed: \(services.read("session\(i).log"))")
        }
    }
}
