import Foundation
import Testing

/// The MySQL → Gearman → Redis sync end to end, every piece real: MariaDB with schema.sql (the
/// project's UDF, the triggers), gearmand, redis-server, and the `redis-sync` binary as the
/// server with a job pool of 3 — the Swift handler, or the PHP worker as an exec pool.
@Suite(.serialized) struct PipelineTests {
    static let rows = 500, updatesPerRow = 20, sessions = 4

    @Test func swiftJobPool() throws {
        let stack = try Stack(pool: """
        [sync]
        gearman.servers = {GEARMAN}
        gearman.functions = syncToRedis
        handler = syncToRedis
        pm = static
        pm.max_children = 3
        env[REDIS_ADDRESS] = {REDIS}
        """)
        defer { stack.services.stop() }
        try stack.interleavedUpdatesReachRedis()

        // Jobs of one row submitted newest first, straight to gearmand (SUBMIT_JOB_BG): three
        // workers take them in any order, and Redis keeps the newest. Then a stale job again,
        // as after a crash: still the newest.
        let ids = (1...50).map { 100_000 + $0 }
        var payloads: [String] = []
        for version in stride(from: 20, through: 1, by: -1) {
            for id in ids { payloads.append(#"{"id": \#(id), "volume": \#(version * 10), "version": \#(version)}"#) }
        }
        try stack.gearmand.submitBackground(payloads: payloads)
        try stack.gearmand.submitBackground(payloads: ids.map { #"{"id": \#($0), "volume": 0, "version": 3}"# })
        #expect(stack.gearmand.drained(timeout: 60), "gearmand still holds jobs: \(String(describing: try? stack.gearmand.status()))")
        let values = try stack.redis.values(keys: ids.map(String.init))
        for id in ids {
            #expect(values[String(id)] == #"{"id": \#(id), "volume": 200, "version": 20}"#, "row \(id)")
        }
        #expect(!stack.fpmLog.contains("exited with code"), "\(stack.fpmLog)")
    }

    @Test func phpWorkerAsAnExecJobPool() throws {
        let stack = try Stack(pool: """
        [phpsync]
        gearman.servers = {GEARMAN}
        gearman.functions = syncToRedis
        exec = /usr/bin/php8.2 \(Services.exampleDir)/php/redis_worker.php
        pm = static
        pm.max_children = 3
        catch_workers_output = yes
        env[REDIS_ADDRESS] = {REDIS}
        """)
        defer { stack.services.stop() }
        try stack.interleavedUpdatesReachRedis()
        // A stop lets each PHP worker finish its job and exit on its own (its SIGTERM handler).
        stack.fpm.stop(SIGQUIT)
        #expect(stack.fpmLog.components(separatedBy: "exited with code 0").count - 1 == 3, "\(stack.fpmLog)")
        #expect(!stack.fpmLog.contains("exited on signal"), "\(stack.fpmLog)")
    }

    /// The example's pool files pass `redis-sync -t` (the binary knows `handler = syncToRedis`).
    @Test func theExampleConfigurationsAreValid() throws {
        let services = try Services("conf")
        defer { services.stop() }
        for conf in ["redis-sync.conf", "redis-sync-php.conf"] {
            try services.run(Services.binary, ["-t", "-R", "-y", Services.exampleDir + "/" + conf])
        }
    }
}

/// MariaDB, gearmand, redis-server and the job pool, each on a free port in one temp folder.
final class Stack {
    let services: Services
    let redis: RedisServer
    let gearmand: Gearmand
    let db: MariaDB
    var fpm: Child!

    init(pool: String) throws {
        services = try Services("pipeline")
        redis = try RedisServer(services)
        gearmand = try Gearmand(services)
        db = try MariaDB(services, gearmand: gearmand)
        let conf = """
        [global]
        pid = \(services.dir)/fpm.pid
        error_log = \(services.dir)/fpm.log

        \(pool.replacingOccurrences(of: "{GEARMAN}", with: gearmand.server).replacingOccurrences(of: "{REDIS}", with: redis.address.description))

        """
        try services.write("fpm.conf", conf)
        let fpm = try services.start(Services.binary, ["-F", "-R", "-y", services.dir + "/fpm.conf"], log: "fpm.out",
                                     environment: ["SWIFT_FPM_RUNTIME_DIR": services.dir], stopSignal: SIGQUIT)
        // Ready when the pool's three workers have registered the function.
        guard Services.waitUntil(timeout: 30, { !fpm.isRunning || ((try? self.gearmand.status())??.workers ?? 0) >= 3 }), fpm.isRunning else {
            throw Services.Failure(description: "the job pool did not start:\n\(fpmLog)\n\(services.read("fpm.out"))")
        }
        self.fpm = fpm
    }

    var fpmLog: String { services.read("fpm.log") }

    /// 500 rows × 20 updates from 4 SQL sessions at once, each row's updates spread over the
    /// sessions in a shuffled order; once gearmand's queue is empty Redis holds every row as
    /// MariaDB does (the trigger's JSON: id, volume, version).
    func interleavedUpdatesReachRedis() throws {
        let rows = PipelineTests.rows, sessions = PipelineTests.sessions
        try db.query("INSERT INTO data (id, volume) VALUES " + (1...rows).map { "(\($0), 0)" }.joined(separator: ","))
        var generator = SeededGenerator(seed: 21)
        let scripts = (0..<sessions).map { session in
            var ids = (1...rows).flatMap { Array(repeating: $0, count: PipelineTests.updatesPerRow / sessions) }
            ids.shuffle(using: &generator)
            return ids.map { "UPDATE data SET volume = volume + \(session + 1) WHERE id = \($0);" }.joined(separator: "\n")
        }
        try db.runConcurrently(scripts)
        #expect(gearmand.drained(timeout: 120), "gearmand still holds jobs: \(String(describing: try? gearmand.status()))")

        let table = try db.query("SELECT id, volume, version FROM data")
        #expect(table.count == rows)
        let values = try redis.values(keys: table.map { $0[0] })
        var wrong: [String] = []
        for row in table {
            let expected = #"{"id": \#(row[0]), "volume": \#(row[1]), "version": \#(row[2])}"#
            if row[2] != String(PipelineTests.updatesPerRow) || values[row[0]] != expected {
                wrong.append("row \(row): Redis has \(values[row[0]] ?? "nothing")")
            }
        }
        #expect(wrong.isEmpty, "\(wrong.count) rows differ, e.g. \(wrong.prefix(5))")
    }
}

/// A small deterministic generator (SplitMix64): the same interleaving on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
