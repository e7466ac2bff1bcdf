import Foundation
import Gearman
import GearmanClient

/// Debian's gearmand on a free port, its queue in memory.
final class Gearmand {
    let port = Services.freePort()
    var server: String { "127.0.0.1:\(port)" }
    var address: GearmanServerAddress { GearmanServerAddress(host: "127.0.0.1", port: UInt16(port)) }

    init(_ services: Services) throws {
        let p = try services.start("/usr/sbin/gearmand", [
            "--listen=127.0.0.1", "--port=\(port)", "--log-file=\(services.dir)/gearmand.log", "--verbose=WARNING",
        ], log: "gearmand.out")
        guard Services.waitUntil(timeout: 10, { !p.isRunning || (try? self.statuses()) != nil }), p.isRunning else {
            throw Services.Failure(description: "gearmand did not start: \(services.read("gearmand.out"))")
        }
    }

    /// gearmand's admin `status`: a line per function it knows.
    func statuses() throws -> [GearmanFunctionStatus] {
        let admin = try GearmanAdminConnection(server: address, timeout: 5)
        defer { admin.close() }
        return try admin.status()
    }

    /// The `status` line for `function` (nil: gearmand has never heard of it).
    func status(_ function: String = "syncToRedis") throws -> GearmanFunctionStatus? {
        try statuses().first { $0.function == function }
    }

    /// Waits until gearmand holds no job of `function`, queued or running; false at the deadline.
    func drained(_ function: String = "syncToRedis", timeout: Double) -> Bool {
        Services.waitUntil(timeout: timeout) { (try? self.status(function)).map { ($0?.total ?? 0) == 0 } ?? false }
    }

    /// Queues background jobs with the project's own client (SUBMIT_JOB_BG).
    func submitBackground(_ function: String = "syncToRedis", payloads: [String]) throws {
        let client = try GearmanClient(server: address, timeout: 10)
        defer { client.close() }
        for payload in payloads { try client.submitBackground(function: function, payload: Array(payload.utf8)) }
    }
}
