import Foundation
import Gearman
import GearmanClient
#if canImport(Glibc)
import Glibc
#endif

/// A real gearmand for one job pool test, on a port of its own, that can be killed and started
/// again on the same port (the restart scenario). Stopped by pid with SIGKILL: a gearmand
/// started from a test thread ignores SIGTERM (its signal thread never unblocks it).
final class JobServer {
    static let binary = "/usr/sbin/gearmand"

    struct Failure: Error, CustomStringConvertible { var description: String }

    let address: GearmanServerAddress
    let directory: String
    private var process: Process?

    init() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw Failure(description: "\(Self.binary) is missing: install gearman-job-server (`make deps` does)")
        }
        directory = TestSupport.makeTempDirectory("gearmand")
        address = GearmanServerAddress(host: "127.0.0.1", port: UInt16(TestSupport.freePort()))
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var pid: Int32? { process?.processIdentifier }

    /// Starts gearmand on the address and waits until it answers its admin `version`.
    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--listen=127.0.0.1", "--port=\(address.port)", "--threads=1",
                             "--log-file=\(directory)/gearmand.log", "--pid-file=\(directory)/gearmand.pid"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let up = TestSupport.waitUntil(timeout: 10) {
            guard process.isRunning else { return true }
            guard let admin = try? GearmanAdminConnection(server: address, timeout: 2) else { return false }
            defer { admin.close() }
            return (try? admin.version()) != nil
        }
        guard up, process.isRunning else { throw Failure(description: "gearmand did not start on \(address)") }
    }

    /// SIGKILL and reap. Idempotent.
    func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// gearmand's `status` for `function`: (queued in total, running, workers).
    func status(_ function: String) -> GearmanFunctionStatus? {
        guard let admin = try? GearmanAdminConnection(server: address, timeout: 2) else { return nil }
        defer { admin.close() }
        return (try? admin.status())?.first { $0.function == function }
    }

    /// Submits background jobs `unique(i)` for i in `range`, on one connection.
    func submitBackground(function: String, count: Int, unique: (Int) -> String, payload: [UInt8] = []) throws {
        let client = try GearmanClient(server: address, timeout: 10)
        defer { client.close() }
        for i in 0..<count { _ = try client.submitBackground(function: function, payload: payload, unique: unique(i)) }
    }
}

/// A job pool's `fpm` on one gearmand: pool `jobs` running the test app's `testjobs` handler.
enum JobPools {
    static func pool(_ server: JobServer, extra: String = "", pm: String = "static", children: Int = 3,
                     functions: String = "record") -> String {
        """
        [jobs]
        gearman.servers = \(server.address)
        gearman.functions = \(functions)
        pm = \(pm)
        pm.max_children = \(children)
        handler = testjobs
        env[TESTJOBS_DONE] = {{DIR}}/done.txt
        \(extra)
        """
    }

    /// The unique ids recorded as done (the handler's lines: "UNIQUE PID").
    static func done(_ fpm: FPMServer) -> [String] {
        TestSupport.read(fpm.dir + "/done.txt").split(separator: "\n").map { String($0.split(separator: " ")[0]) }
    }

    /// A process's CPU time (user + system) in clock ticks, from /proc/PID/stat.
    static func cpuTicks(_ pid: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let user = Int(fields[11]), let system = Int(fields[12]) else { return nil }
        return user + system
    }
}
