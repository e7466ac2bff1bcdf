import Foundation
import Gearman
import GearmanClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Job pools through the real `fpm` and a real gearmand: what a Swift job handler returns or
/// throws reaches the client, and the pool's workers are seen like any pool's.
@Suite(.serialized) struct JobPoolTests {
    @Test func aSwiftJobPoolAnswersClientsAsTheHandlerSays() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs", pools: JobPools.pool(gearmand, extra: "access.log = {{DIR}}/access.log\naccess.format = \"%n %m %r %f %s %{GEARMAN_OUTCOME}e %l\"",
                                                                   children: 2, functions: "record, fail, boom, progress"))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("record")?.workers ?? 0) == 2 }, "\(fpm.log)")
        let client = try GearmanClient(server: gearmand.address, timeout: 10, exceptions: true)
        defer { client.close() }
        let done = try client.submit(function: "record", payload: Array("hello".utf8), unique: "u1")
        #expect(done.outcome == .complete(Array("hello".utf8)))
        #expect(try client.submit(function: "fail", payload: []).outcome == .failed)
        #expect(try client.submit(function: "boom", payload: []).outcome == .exception(Array("boom from the test job".utf8)))
        let progress = try client.submit(function: "progress", payload: [])
        #expect(progress.outcome == .complete(Array("done".utf8)))
        #expect(progress.progress.map { $0.0 } == [1] && progress.data == [Array("part".utf8)])
        // After the exception gearmand sends the client a WORK_FAIL too: the next job is unaffected.
        #expect(try client.submit(function: "record", payload: [1], unique: "u2").outcome == .complete([1]))
        #expect(!fpm.log.contains("unreachable"), "\(fpm.log)")
        #expect(JobPools.done(fpm).sorted() == ["u1", "u2"])
        #expect(fpm.waitForLog("job ") && fpm.log.contains("failed: boom from the test job"))
        let access = TestSupport.read(fpm.dir + "/access.log")
        #expect(access.contains("jobs JOB record H:") && access.contains(" 200 complete 5"), "\(access)")
        #expect(access.contains("JOB fail H:") && access.contains(" 422 fail 0"), "\(access)")
        #expect(access.contains(" 500 exception 0"), "\(access)")
    }
}
