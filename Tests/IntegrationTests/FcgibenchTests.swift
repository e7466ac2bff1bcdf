import Foundation
import Testing

/// `fcgibench` against the real fpm: a count of requests is exactly that many answered, over
/// kept connections or one connection per request.
@Suite(.serialized) struct FcgibenchTests {
    static var path: String { TestSupport.binDirectory.appendingPathComponent("fcgibench").path }

    func run(_ arguments: [String]) throws -> [String: Any] {
        let out = try runCommand(Self.path, arguments, environment: ProcessInfo.processInfo.environment, timeout: 60)
        #expect(out.status == 0, "\(out.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(out.stdout.utf8))
        return try #require(object as? [String: Any], "\(out.stdout)")
    }

    @Test func aCountOfRequestsOnKeptConnectionsIsAnsweredExactly() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 2))
        let r = try run(["127.0.0.1:\(server.port)", "-c", "4", "-n", "300", "--uri", "/pid?x=1", "--json"])
        #expect(r["requests"] as? Int == 300)
        #expect(r["ok"] as? Int == 300)
        #expect(r["errors"] as? Int == 0)
        #expect(r["connections_opened"] as? Int == 4)
        #expect((r["requests_per_second"] as? Double ?? 0) > 0)
    }

    @Test func oneConnectionPerRequestOverAUnixSocketWithABody() throws {
        let server = try FPMServer(pools: """
        [www]
        listen = {{DIR}}/www.sock
        pm = static
        pm.max_children = 2
        handler = testapp
        """)
        let r = try run([server.dir + "/www.sock", "-c", "2", "-n", "50", "--new-connection", "--uri", "/echo",
                         "--method", "POST", "--body", "hello", "--json"])
        #expect(r["requests"] as? Int == 50)
        #expect(r["ok"] as? Int == 50)
        #expect(r["connections_opened"] as? Int == 50)
    }

    @Test func badArgumentsAreRefusedClearly() throws {
        let out = try runCommand(Self.path, ["not an address"], environment: ProcessInfo.processInfo.environment, timeout: 30)
        #expect(out.status != 0)
        #expect(out.stderr.contains("is not a FastCGI address"), "\(out.stderr)")
    }
}
