@testable import FPM
import FPMServer
import FPMTesting
import Testing

/// What a job handler returns or throws is what the worker reports to gearmand.
@Suite struct JobHandlerTests {
    struct Boom: Error, CustomStringConvertible { var description: String { "boom at the database" } }

    @Test func theResultCompletesTheJob() throws {
        let tester = try JobTester(ClosureJobHandler { job in Array(job.payloadText.reversed().map { UInt8($0.asciiValue!) }) })
        #expect(try tester.run(function: "reverse", text: "abc") == .completed(Array("cba".utf8)))
    }

    @Test func jobFailedFailsWithoutText() throws {
        let tester = try JobTester(ClosureJobHandler { _ in throw JobFailed() })
        #expect(try tester.run(function: "f", payload: []) == .failed)
    }

    @Test func anyOtherErrorIsAnExceptionWithItsDescription() throws {
        let tester = try JobTester(ClosureJobHandler { _ in throw Boom() })
        #expect(try tester.run(function: "f", payload: []) == .exception("boom at the database"))
        // The server's mapping is the same one.
        let outcome = AppJobHandler(app: ClosureJobHandler { _ in throw Boom() })
            .run(ServerJob(function: "f", handle: "H:x:1", unique: "", payload: []), reports: NoReports())
        #expect(outcome == .exception("boom at the database"))
        #expect(outcome.word == "exception")
    }

    @Test func theJobCarriesWhatGearmandSent() throws {
        final class Box: @unchecked Sendable { var job: Job? }
        let box = Box()
        let tester = try JobTester(ClosureJobHandler { job in box.job = job; return [] })
        _ = try tester.run(function: "sync", payload: [0, 0xFF, 65], unique: "u-1", handle: "H:host:7")
        #expect(box.job?.function == "sync")
        #expect(box.job?.handle == "H:host:7")
        #expect(box.job?.unique == "u-1")
        #expect(box.job?.payload == [0, 0xFF, 65])
        #expect(box.job?.payloadText == "\u{0}\u{FFFD}A")
    }

    @Test func progressAndDataAreRecordedInOrder() throws {
        let tester = try JobTester(ClosureJobHandler { job in
            try job.progress(1, of: 2)
            try job.send([1, 2])
            try job.progress(2, of: 2)
            return [3]
        })
        #expect(try tester.run(function: "f", payload: []) == .completed([3]))
        #expect(tester.reports == [.progress(done: 1, total: 2), .data([1, 2]), .progress(done: 2, total: 2)])
        #expect(tester.data == [[1, 2]])
        #expect(tester.progress.map { $0.done } == [1, 2])
        // The next job starts with no reports.
        _ = try ClosureJobHandler { _ in [] }.run(Job(function: "f", payload: []))
        #expect(try tester.run(function: "f", payload: []) == .completed([3]))
        #expect(tester.reports.count == 3)
    }

    @Test func setUpRunsOnceWithTheWorkerAndItsErrorIsThrown() throws {
        final class Box: @unchecked Sendable { var pools: [String] = [] }
        let box = Box()
        _ = try JobTester(ClosureJobHandler(setUp: { box.pools.append($0.pool) }) { _ in [] },
                          worker: WorkerInfo(pool: "jobs", pid: 9, slot: 0, environment: []))
        #expect(box.pools == ["jobs"])
        #expect(throws: Boom.self) { try JobTester(ClosureJobHandler(setUp: { _ in throw Boom() }) { _ in [] }) }
    }

    @Test func aJobHandlerThatPreparesItsPoolSaysSo() {
        struct Preparing: JobHandler, PoolPreparing {
            func run(_ job: Job) throws -> [UInt8] { [] }
            func prepare(_ pool: PoolInfo) throws {}
        }
        #expect(AppJobHandler(app: Preparing()).preparesPool)
        #expect(!AppJobHandler(app: ClosureJobHandler { _ in [] }).preparesPool)
    }

    final class NoReports: JobReports {
        func progress(handle: String, done: Int, of total: Int) throws {}
        func data(handle: String, _ bytes: [UInt8]) throws {}
    }
}
