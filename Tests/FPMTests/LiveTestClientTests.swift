import Foundation
import FPM
import FPMTesting
import Glibc
import HTTPTypes
import Testing

/// TestClient's live mode on the test app's real binary: its own master, a forked worker,
/// a temp unix socket, stopped by pid at the end.
@Suite struct LiveTestClientTests {
    /// fpm-testapp, next to this test bundle in the build folder.
    static let testApp: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("fpm-testapp").path) && url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("fpm-testapp")
    }()

    @Test func aLiveClientServesThroughTheRealBinary() throws {
        let client = try TestClient.live(executable: Self.testApp, pool: """
            handler = testapp
            ping.path = /ping
            pm.status_path = /status
            """)
        let master = try #require(client.livePID)
        let setup = client.get("/setup")
        #expect(setup.status == .ok)
        #expect(setup.text == "setups 1\n", "setUp ran once, in the worker")
        let worker = try #require(setup.header(HTTPField.Name("X-Worker-PID")!).flatMap { Int32($0) })
        #expect(worker != master, "served by a forked worker, not the master")
        #expect(client.get("/ping").text.hasPrefix("pong"))
        #expect(client.get("/status").text.contains("pool:"), "the status page, which needs the scoreboard")
        let missing = client.get("/status-code?code=404")
        #expect(missing.status == .notFound)
        #expect(missing.text == "status 404\n")
        #expect(client.get("/throw").status == .internalServerError)
        client.close()
        #expect(kill(master, 0) == -1, "the master is gone once closed")
        #expect(kill(worker, 0) == -1, "and its worker")
    }

    @Test func aBinaryThatDoesNotStartIsReported() {
        #expect(throws: (any Error).self) {
            try TestClient.live(executable: Self.testApp, pool: "handler = no-such-handler", timeout: 5)
        }
    }
}
