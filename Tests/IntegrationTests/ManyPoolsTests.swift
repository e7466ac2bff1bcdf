import FastCGI
import FastCGIClient
import Foundation
import Testing

/// Thousands of pools: `-t` and a start work, the master holds at most two descriptors per pool
/// (its listener and its hand-off socket), and a reload brings up a new generation that serves
/// on every pool sampled.
@Suite struct ManyPoolsTests {
    static let poolCount = 2000

    /// `count` ondemand pools, each on its own unix socket, answering `/ping` with `pong`.
    static func pools(_ count: Int, pong: String) -> String {
        var text = ""
        for i in 1...count {
            text += "[p\(i)]\nlisten = {{DIR}}/p\(i).sock\npm = ondemand\npm.max_children = 1\nhandler = info\nping.path = /ping\nping.response = \(pong)\n"
        }
        return text
    }

    static func ping(_ server: FPMServer, pool: Int) throws -> String {
        let client = try FastCGIClient(connectingTo: FastCGIAddress("\(server.dir)/p\(pool).sock")!, timeout: 20)
        defer { client.close() }
        return try client.request(params: TestSupport.params(uri: "/ping")).bodyText
    }

    @Test func twoThousandPoolsTestStartAndReload() throws {
        let server = try FPMServer(name: "many-pools", pools: Self.pools(Self.poolCount, pong: "first"), start: false)
        let check = try runCommand(TestSupport.testAppPath, ["-R", "-t", "-y", server.configPath], timeout: 120)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stderr.contains("test is successful"), "\(check.stderr)")

        try server.start()
        #expect(TestSupport.waitUntil(timeout: 60) { (try? Self.ping(server, pool: Self.poolCount)) == "first" })
        let sampled = [1, 2, Self.poolCount / 2, Self.poolCount - 1, Self.poolCount]
        for pool in sampled { #expect(try Self.ping(server, pool: pool) == "first", "pool p\(pool)") }

        // Per pool a listener and a hand-off socket; the rest (logs, epoll, signalfd, the
        // state file's, a worker or two's control channels) is a small constant.
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count
        #expect(descriptors <= 2 * Self.poolCount + 32, "master holds \(descriptors) descriptors for \(Self.poolCount) pools")

        server.writeConfig(pools: Self.pools(Self.poolCount, pong: "second"))
        let reload = try server.fpmctl(["reload", "--pid", server.pidPath, "--timeout", "120"], timeout: 150)
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(reload.stdout.contains("generation 2 is serving"), "\(reload.stdout)")
        for pool in sampled { #expect(try Self.ping(server, pool: pool) == "second", "pool p\(pool)") }
        let after = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count
        #expect(after <= 2 * Self.poolCount + 32, "after the reload the master holds \(after) descriptors")
        #expect(server.child.process.isRunning)
    }
}
