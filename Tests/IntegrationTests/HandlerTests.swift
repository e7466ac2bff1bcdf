import FastCGI
import FastCGIClient
import Foundation
import Testing

/// The Swift handler API through a real binary built on the FPM library (Tests/Fixtures/TestApp,
/// a user's app in miniature): errors, crashes, the per-worker setup, HEAD, and the built-ins.
@Suite(.serialized) struct HandlerTests {
    @Test func aThrownErrorIsA500AndALogLineNamingTheRequest() throws {
        let server = try FPMServer()
        let r = try server.request("/throw?x=1")
        #expect(r.status == 500)
        #expect(r.bodyText == "Internal Server Error\n")
        #expect(r.appStatus == 1)
        #expect(server.waitForLog("handler error for \"GET /throw?x=1\": boom from the test app"))
        // The worker survives its handler's error.
        #expect(server.workers.count == 2)
        #expect(try server.request("/pid").status == 200)
    }

    @Test func aCrashFailsOnlyItsOwnRequestAndTheWorkerIsReplaced() throws {
        let server = try FPMServer(pool: "")  // two static workers
        #expect(server.waitForWorkers(2))
        let before = Set(server.workers)
        // A slow request occupies one worker while the other crashes.
        let slow = UncheckedBox(ResultBox())
        let port = server.port
        let task = BackgroundTask {
            guard let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 20) else { return }
            defer { c.close() }
            slow.value.result = try? c.request(params: TestSupport.params(uri: "/sleep?ms=1500"))
        }
        // Whichever worker each request reaches, the slow one must complete: the crash takes
        // down one process and one request only.
        #expect(try server.request("/crash").status == 500)
        #expect(task.wait(timeout: 20))
        #expect(slow.value.result?.status == 200)
        #expect(slow.value.result?.bodyText.hasPrefix("slept 1500") == true)
        #expect(server.waitForLog("exited on signal"))
        #expect(TestSupport.waitUntil { server.workers.count == 2 && Set(server.workers) != before })
        #expect(try server.request("/pid").status == 200)
    }

    @Test func setUpRunsOnceInEachWorkerAfterFork() throws {
        let server = try FPMServer(pool: "env[TESTAPP_SETUP_MARKER] = {{DIR}}/setup")
        #expect(server.waitForWorkers(2))
        let workers = server.workers
        #expect(TestSupport.waitUntil {
            workers.allSatisfy { FileManager.default.fileExists(atPath: server.dir + "/setup.\($0)") }
        })
        #expect(!FileManager.default.fileExists(atPath: server.dir + "/setup.\(server.pid)"))
        for _ in 0..<4 { #expect(try server.request("/setup").bodyText == "setups 1\n") }
    }

    @Test func headAnswersWithoutABodyAndStatusesPassThrough() throws {
        let server = try FPMServer()
        let head = try server.request("/big?bytes=100000", method: "HEAD")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        let big = try server.request("/big?bytes=3000000")
        #expect(big.body.count == 3_000_000)
        let teapot = try server.request("/status-code?code=418")
        #expect(teapot.status == 418)
    }

    @Test func theFpmBinaryHasTheBuiltInInfoAndCgiHandlers() throws {
        let dir = TestSupport.makeTempDirectory("builtins")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestSupport.write(dir + "/ok.conf", "[global]\nerror_log = \(dir)/e.log\n[a]\nlisten = 127.0.0.1:1\npm = static\npm.max_children = 1\nhandler = cgi\n[b]\nlisten = 127.0.0.1:2\npm = static\npm.max_children = 1\nhandler = info\n")
        let ok = try runCommand(TestSupport.fpmPath, ["-t", "-R", "-y", dir + "/ok.conf"])
        #expect(ok.status == 0)
        TestSupport.write(dir + "/bad.conf", "[global]\nerror_log = \(dir)/e.log\n[a]\nlisten = 127.0.0.1:1\npm = static\npm.max_children = 1\nhandler = nope\n")
        let bad = try runCommand(TestSupport.fpmPath, ["-t", "-y", dir + "/bad.conf"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("cgi, info"))
    }
}

final class ResultBox: @unchecked Sendable {
    var result: FastCGIResponse?
}
