import Foundation
import Gearman
import GearmanClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Nothing lost: 5,000 background jobs into a static job pool of 3 while a worker is SIGKILLed
/// every 200 ms and the pool is reloaded 3 times; every job is done at least once. A job is
/// acknowledged only after its handler finished, so a job in a killed worker's hands goes back
/// to gearmand's queue when its connection drops.
@Suite(.serialized) struct JobsNothingLostTests {
    static let jobs = 5_000

    /// Submits the jobs over about 3 s while killing and reloading; returns the figures.
    static func run(_ fpm: FPMServer, _ gearmand: JobServer, label: String) throws -> (missing: Int, duplicates: Int, kills: Int, seconds: Double) {
        let started = Date()
        let submitted = ManagedAtomicFlag()
        let address = gearmand.address
        let submitter = Thread {
            defer { submitted.set() }
            guard let client = try? GearmanClient(server: address, timeout: 10) else { return }
            defer { client.close() }
            for batch in 0..<20 {
                for i in (batch * jobs / 20)..<((batch + 1) * jobs / 20) {
                    _ = try? client.submitBackground(function: "record", payload: Array("\(i)".utf8), unique: "j-\(i)")
                }
                Thread.sleep(forTimeInterval: 0.15)
            }
        }
        submitter.start()
        var kills = 0
        var reloads = 0
        var tick = 0
        let expected = Set((0..<jobs).map { "j-\($0)" })
        let finished = TestSupport.waitUntil(timeout: 45, interval: 0.2) {
            tick += 1
            if !submitted.isSet || tick % 2 == 0 {
                // A worker dies in the middle of whatever it does, every 200 ms while jobs come.
                if !submitted.isSet, let victim = fpm.workers.randomElement() {
                    kill(victim, SIGKILL)
                    kills += 1
                }
            }
            if reloads < 3 && tick % 5 == 0 {
                kill(fpm.pid, SIGUSR2)
                reloads += 1
            }
            return submitted.isSet && Set(JobPools.done(fpm)).isSuperset(of: expected)
        }
        let done = JobPools.done(fpm)
        let missing = expected.subtracting(done).count
        let seconds = Date().timeIntervalSince(started)
        print("\(label): \(jobs - missing) of \(jobs) done, \(done.count - Set(done).count) run twice, \(kills) workers SIGKILLed, \(reloads) reloads, \(String(format: "%.1f", seconds)) s")
        #expect(finished, "\(missing) jobs missing; log:\n\(fpm.log.suffix(3000))")
        #expect(reloads == 3)
        return (missing, done.count - Set(done).count, kills, seconds)
    }

    @Test func aSwiftJobPoolLosesNoJobUnderKillsAndReloads() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-lost", pools: JobPools.pool(gearmand, children: 3))
        defer { fpm.stop() }
        #expect(fpm.waitForWorkers(3))
        let figures = try Self.run(fpm, gearmand, label: "Swift job pool")
        #expect(figures.missing == 0)
        #expect(figures.kills >= 5)
        #expect(fpm.count("reloading") + fpm.count("reload") >= 3, "\(fpm.log.suffix(2000))")
    }

    @Test func anExecPHPJobPoolLosesNoJobUnderKillsAndReloads() throws {
        let php = "/usr/bin/php8.2"
        guard FileManager.default.isExecutableFile(atPath: php) else {
            throw JobServer.Failure(description: "\(php) is missing: install php8.2-cli php8.2-gearman (`make deps` does)")
        }
        let gearmand = try JobServer()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/jobs/worker.php").path
        let pool = """
            [php-jobs]
            gearman.servers = \(gearmand.address)
            gearman.functions = record
            pm = static
            pm.max_children = 3
            exec = \(php) \(script)
            env[TESTJOBS_DONE] = {{DIR}}/done.txt
            catch_workers_output = yes
            """
        let fpm = try FPMServer(name: "jobs-php", pools: pool)
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("record")?.workers ?? 0) == 3 }, "\(fpm.log)")
        let figures = try Self.run(fpm, gearmand, label: "PHP exec job pool")
        #expect(figures.missing == 0)
        // Each killed program of the current generation was started again, and counted.
        let status = try fpm.fpmctl(["status", "--pid", fpm.pidPath]).stdout
        let restarts = status.split(separator: "\n").first { $0.hasPrefix("restarts:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        print("PHP exec job pool: \(restarts) restarts shown")
        #expect(restarts > 0, "\(status)")
    }
}

/// A flag one thread sets and another reads.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
