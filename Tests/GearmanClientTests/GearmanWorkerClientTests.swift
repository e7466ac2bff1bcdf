import FPMSystem
import Foundation
import Gearman
import GearmanClient
import Testing

@Suite("GearmanClient: worker, client and admin against gearmand", .serialized)
struct GearmanWorkerClientTests {
    @Test("echo, and the admin view of a registered worker and of the backlog")
    func echoAndAdmin() throws {
        let gearmand = try GearmandServer()
        let worker = try GearmanWorker(server: gearmand.address, functions: ["syncToRedis", "writeLog"], clientID: "pool-www-1")
        #expect(try worker.echo(Payloads.allBytes) == Payloads.allBytes)
        let client = try GearmanClient(server: gearmand.address)
        #expect(try client.echo(Payloads.nuls) == Payloads.nuls)
        for i in 0..<4 { try client.submitBackground(function: "syncToRedis", payload: Array("{\"id\":\(i)}".utf8)) }
        let admin = try GearmanAdminConnection(server: gearmand.address)
        #expect(try admin.version().hasPrefix("1."))
        let status = try admin.status().sorted { $0.function < $1.function }
        #expect(status == [GearmanFunctionStatus(function: "syncToRedis", total: 4, running: 0, workers: 1),
                           GearmanFunctionStatus(function: "writeLog", total: 0, running: 0, workers: 1)])
        let workers = try admin.workers()
        #expect(workers.contains { $0.clientID == "pool-www-1" && Set($0.functions) == ["syncToRedis", "writeLog"] })
        // One job in hand: running 1, still 4 in total until it completes.
        let job = try #require(try worker.grab())
        #expect(try admin.status().first { $0.function == "syncToRedis" }?.running == 1)
        try worker.complete(job)
        #expect(try worker.echo([1]) == [1])  // the completion reached gearmand before the next look
        #expect(try admin.status().first { $0.function == "syncToRedis" }?.total == 3)
    }

    @Test("a report left for the next grab reaches gearmand with that grab, or with flush; unflushed, the job is handed out again")
    func reportsWithTheNextGrab() throws {
        let gearmand = try GearmandServer()
        let worker = try GearmanWorker(server: gearmand.address, functions: ["f"])
        let client = try GearmanClient(server: gearmand.address)
        for i in 0..<4 { try client.submitBackground(function: "f", payload: [UInt8(i)], unique: "job-\(i)") }
        let admin = try GearmanAdminConnection(server: gearmand.address)
        func queued() throws -> (total: Int, running: Int) {
            let status = try #require(try admin.status().first { $0.function == "f" })
            return (status.total, status.running)
        }
        // Completed later: still running at gearmand until the next grab carries the report.
        let first = try #require(try worker.grab())
        worker.completeLater(first, result: [1])
        #expect(worker.hasPendingReport)
        #expect(try queued() == (4, 1))
        let second = try #require(try worker.grab())
        #expect(!worker.hasPendingReport)
        #expect(try queued() == (3, 1), "the first job's completion went with the second grab")
        // A failure left pending goes out with flush.
        worker.failLater(second)
        try worker.flush()
        #expect(try worker.echo([1]) == [1])  // gearmand read what came before it
        #expect(try queued() == (2, 0))
        // Left pending and the connection closed: not acknowledged, so the job is queued again.
        let third = try #require(try worker.grab())
        worker.completeLater(third, result: [])
        worker.close()
        let deadline = SystemClock.monotonicNanos() + 10_000_000_000
        while try queued() != (2, 0) && SystemClock.monotonicNanos() < deadline { _ = try admin.version() }
        #expect(try queued() == (2, 0), "gearmand took the job back when the connection closed")
        let other = try GearmanWorker(server: gearmand.address, functions: ["f"])
        var uniques: Set<String> = []
        while let job = try other.grab() {
            uniques.insert(job.unique)
            other.completeLater(job)
        }
        #expect(uniques == [third.unique, "job-3"])
        #expect(try queued() == (0, 0), "the last completion went with the grab that found nothing")
        // nextJob, asked to stop, flushes what is left before it returns.
        try client.submitBackground(function: "f", payload: [], unique: "last")
        let last = try #require(try other.grab())
        other.exceptionLater(last, message: Array("no".utf8))
        #expect(try other.nextJob(pollMillis: 20) { true } == nil)
        #expect(!other.hasPendingReport)
        #expect(try other.echo([2]) == [2])
        #expect(try queued() == (0, 0))
    }

    @Test("a sleeping worker wakes with NOOP when a job comes in; the stop flag ends the wait")
    func sleepAndWake() throws {
        let gearmand = try GearmandServer()
        let worker = try GearmanWorker(server: gearmand.address, functions: ["f"])
        #expect(try worker.grab() == nil)
        try worker.sleep()
        #expect(worker.isSleeping)
        #expect(try worker.waitForWakeUp(timeoutMillis: 0) == false)
        let client = try GearmanClient(server: gearmand.address)
        try client.submitBackground(function: "f", payload: [], unique: "empty-payload")
        #expect(try worker.waitForWakeUp(timeoutMillis: 10_000))
        #expect(!worker.isSleeping)
        let job = try #require(try worker.grab())
        #expect(job.payload.isEmpty && job.unique == "empty-payload")
        try worker.complete(job)
        // Nothing queued: nextJob sleeps in 20 ms slices and returns nil once asked to stop.
        var asked = 0
        let started = SystemClock.monotonicNanos()
        #expect(try worker.nextJob(pollMillis: 20) { asked += 1; return asked > 3 } == nil)
        #expect(asked == 4)
        #expect(SystemClock.monotonicNanos() - started >= 40_000_000, "it waited between the checks")
    }

    @Test("Swift client → Swift worker: foreground result, data, status, and exceptions with the option")
    func foregroundBothSwift() throws {
        let gearmand = try GearmandServer()
        let address = gearmand.address
        let done = DispatchSemaphore(value: 0)
        let failures = Failures()
        // The worker runs on a thread of its own: a foreground submit blocks until it answers.
        Thread {
            defer { done.signal() }
            do {
                let worker = try GearmanWorker(server: address, functions: ["f"])
                for _ in 0..<2 {
                    guard let job = try worker.nextJob(pollMillis: 100, shouldStop: giveUp(after: 20)) else {
                        return failures.add("worker got no job")
                    }
                    if job.payload == Array("throw".utf8) {
                        try worker.exception(job, message: Array("it broke".utf8))
                    } else {
                        try worker.warning(job, Array("careful".utf8))
                        try worker.status(job, numerator: 2, denominator: 4)
                        try worker.data(job, [0, 1])
                        try worker.complete(job, result: job.payload.reversed())
                    }
                }
            } catch {
                failures.add("worker: \(error)")
            }
        }.start()
        let client = try GearmanClient(server: address, timeout: 20, exceptions: true)
        let ok = try client.submit(function: "f", payload: Payloads.megabyte, unique: "big", priority: .high)
        #expect(ok.handle.hasPrefix("H:"))
        #expect(ok.data == [[0, 1]] && ok.warnings == [Array("careful".utf8)])
        #expect(ok.progress.map(\.numerator) == [2] && ok.progress.map(\.denominator) == [4])
        if case .complete(let bytes) = ok.outcome {
            #expect(bytes.count == Payloads.megabyte.count && fnv1a(bytes) == fnv1a(Payloads.megabyte.reversed()))
        } else {
            Issue.record("not complete")
        }
        let thrown = try client.submit(function: "f", payload: Array("throw".utf8), priority: .low)
        #expect(thrown.outcome == .exception(Array("it broke".utf8)))
        #expect(done.wait(timeout: .now() + 20) == .success)
        #expect(failures.all.isEmpty, "\(failures.all)")
    }

    @Test("arguments the protocol cannot carry are refused before anything is sent")
    func invalidArguments() throws {
        let gearmand = try GearmandServer()
        let client = try GearmanClient(server: gearmand.address)
        #expect(throws: GearmanClientError.invalidArgument("empty function name")) { try client.submitBackground(function: "", payload: []) }
        #expect(throws: GearmanClientError.invalidArgument("function name contains a NUL byte")) {
            try client.submitBackground(function: "a\0b", payload: [])
        }
        #expect(throws: GearmanClientError.invalidArgument("unique id longer than 64 bytes")) {
            try client.submitBackground(function: "f", payload: [], unique: String(repeating: "u", count: 65))
        }
        #expect(throws: GearmanClientError.invalidArgument("client id contains a space")) {
            _ = try GearmanWorker(server: gearmand.address, functions: ["f"], clientID: "a b")
        }
        // The connection is still in step after the refusals.
        #expect(try client.echo([7]) == [7])
    }

    @Test("a refused connection and a server that goes away are errors that say so")
    func connectionLost() throws {
        let port = try GearmandServer.freePort()
        do {
            _ = try GearmanWorker(server: GearmanServerAddress(host: "127.0.0.1", port: port), functions: ["f"])
            Issue.record("connected to a closed port")
        } catch {
            #expect(error == .system(call: "connect", errno: ECONNREFUSED))
            #expect(error.isConnectionLost)
        }
        let gearmand = try GearmandServer()
        let worker = try GearmanWorker(server: gearmand.address, functions: ["f"])
        try worker.sleep()
        gearmand.stop()
        do {
            _ = try worker.waitForWakeUp(timeoutMillis: 10_000)
            Issue.record("no error after gearmand was killed")
        } catch {
            #expect(error == .connectionClosed(during: "while a response was awaited"))
            #expect(error.isConnectionLost)
        }
    }

    @Test("garbage from the server is a protocol error, not a hang or a crash")
    func garbageFromServer() throws {
        // gearmand answers a text line on the binary connection with text: the worker's
        // parser sees no \0RES magic.
        let gearmand = try GearmandServer()
        let client = try GearmanClient(server: gearmand.address)
        try client.connection.sendRaw(Array("version\n".utf8))
        do {
            _ = try client.connection.receive()
            Issue.record("text taken for a packet")
        } catch {
            #expect(error == .protocolError(.badMagic(bytes: [0x4F])))  // "OK 1.1.20"
        }
    }
}

/// Failures a helper thread records for the test to report.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []
    func add(_ message: String) { lock.withLock { list.append(message) } }
    var all: [String] { lock.withLock { list } }
}
