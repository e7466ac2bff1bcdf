import Foundation
import Gearman
import GearmanClient
import Testing

// Differential: our client against libgearman's worker, libgearman's client against our
// worker, through a real gearmand. Payloads carry NULs and reach 1 MiB; unique ids travel.

@Suite("Differential: GearmanClient vs libgearman through gearmand", .serialized)
struct LibgearmanDifferentialTests {
    @Test("the libgearman oracle builds (needs libgearman-dev)")
    func oracleBuilds() throws {
        _ = try LibgearmanOracle.built.get()
    }

    @Test("Swift client → C worker: foreground jobs come back reversed, with data and status on the way")
    func swiftClientToCWorker() throws {
        let gearmand = try GearmandServer()
        let payloads = [Payloads.nuls, Payloads.empty, Payloads.allBytes, Payloads.megabyte]
        let (worker, output) = try LibgearmanOracle.worker(gearmand.address, function: "reverse", count: payloads.count + 1)
        let client = try GearmanClient(server: gearmand.address, timeout: 30)
        var uniques: [String] = []
        for (i, payload) in payloads.enumerated() {
            let unique = "u-\(i)-\(payload.count)"
            uniques.append(unique)
            let result = try client.submit(function: "reverse", payload: payload, unique: unique)
            guard case .complete(let bytes) = result.outcome else {
                Issue.record("payload \(i): \(result.outcome == .failed ? "failed" : "exception")")
                continue
            }
            #expect(bytes.count == payload.count && fnv1a(bytes) == fnv1a(payload.reversed()), "payload \(i) of \(payload.count) bytes")
            #expect(result.data == [Array("part".utf8)])
            #expect(result.progress.count == 1 && result.progress.first?.numerator == 1 && result.progress.first?.denominator == 2)
        }
        // "fail…" makes the C worker answer WORK_FAIL.
        let failed = try client.submit(function: "reverse", payload: Array("fail please".utf8), unique: "f")
        #expect(failed.outcome == .failed)
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0)
        let lines = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let jobs = lines.compactMap(LibgearmanOracle.JobLine.init)
        #expect(jobs.count == payloads.count + 1, "worker said: \(lines)")
        for (i, payload) in payloads.enumerated() where i < jobs.count {
            #expect(jobs[i].unique == uniques[i])
            #expect(jobs[i].size == payload.count)
            #expect(jobs[i].hash == fnv1a(payload))
        }
    }

    @Test("Swift client → C worker: background jobs of every priority reach the worker with their unique ids")
    func swiftBackgroundToCWorker() throws {
        let gearmand = try GearmandServer()
        let client = try GearmanClient(server: gearmand.address)
        var handles: [String] = []
        // Queued before any worker exists: high runs first, then normal, then low.
        handles.append(try client.submitBackground(function: "bg", payload: Array("low".utf8), unique: "L", priority: .low))
        handles.append(try client.submitBackground(function: "bg", payload: Payloads.nuls, unique: "N"))
        handles.append(try client.submitBackground(function: "bg", payload: Payloads.megabyte, unique: "H", priority: .high))
        #expect(Set(handles).count == 3 && handles.allSatisfy { $0.hasPrefix("H:") })
        let admin = try GearmanAdminConnection(server: gearmand.address)
        #expect(try admin.status() == [GearmanFunctionStatus(function: "bg", total: 3, running: 0, workers: 0)])
        let (worker, output) = try LibgearmanOracle.worker(gearmand.address, function: "bg", count: 3)
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0)
        let jobs = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").compactMap(LibgearmanOracle.JobLine.init)
        #expect(jobs.map(\.unique) == ["H", "N", "L"])
        #expect(jobs.map(\.size) == [Payloads.megabyte.count, Payloads.nuls.count, 3])
        #expect(jobs.first?.hash == fnv1a(Payloads.megabyte))
        #expect(jobs.map(\.handle) == [handles[2], handles[1], handles[0]])
    }

    @Test("C client → Swift worker: the job arrives intact and the result goes back", arguments: [
        ("nuls", Payloads.nuls), ("all bytes", Payloads.allBytes), ("1 MiB", Payloads.megabyte),
    ] as [(String, [UInt8])])
    func cClientToSwiftWorker(_ name: String, _ payload: [UInt8]) throws {
        // (libgearman's client refuses an empty workload, so the empty payload is tested
        // Swift to Swift below.)
        let gearmand = try GearmandServer()
        let worker = try GearmanWorker(server: gearmand.address, functions: ["other", "reverse"], clientID: "swift-worker", timeout: 30)
        let client = try LibgearmanOracle.client(gearmand.address, mode: "fg", function: "reverse", unique: "uniq-\(name.count)",
                                                 payload: payload, in: gearmand.directory)
        let job = try #require(try worker.nextJob(pollMillis: 100, shouldStop: giveUp(after: 20)), "no job within 20 s")
        #expect(job.function == "reverse")
        #expect(job.unique == "uniq-\(name.count)")
        #expect(job.payload.count == payload.count && fnv1a(job.payload) == fnv1a(payload))
        #expect(job.handle.hasPrefix("H:"))
        try worker.status(job, numerator: 1, denominator: 3)
        try worker.data(job, Array("chunk".utf8))
        try worker.complete(job, result: payload.reversed())
        let result = [UInt8](client.stdout.fileHandleForReading.readDataToEndOfFile())
        client.process.waitUntilExit()
        #expect(client.process.terminationStatus == 0)
        // libgearman's gearman_client_do hands back the WORK_DATA parts and the WORK_COMPLETE
        // data as one result.
        let expected = Array("chunk".utf8) + payload.reversed()
        #expect(result.count == expected.count && fnv1a(result) == fnv1a(expected))
    }

    @Test("C client → Swift worker: WORK_FAIL ends the C client's job as failed")
    func failure() throws {
        let gearmand = try GearmandServer()
        let worker = try GearmanWorker(server: gearmand.address, functions: ["f"])
        let client = try LibgearmanOracle.client(gearmand.address, mode: "fg", function: "f", unique: nil,
                                                 payload: Array("x".utf8), in: gearmand.directory)
        let job = try #require(try worker.nextJob(pollMillis: 100, shouldStop: giveUp(after: 20)), "no job within 20 s")
        #expect(!job.unique.isEmpty, "libgearman makes up a unique id")
        try worker.fail(job)
        _ = client.stdout.fileHandleForReading.readDataToEndOfFile()
        client.process.waitUntilExit()
        #expect(client.process.terminationStatus == 3)
        // (Not WORK_EXCEPTION: libgearman 1.1.20's client keeps waiting after one, whatever
        // follows; the Swift client's exceptions are tested against the Swift worker.)
    }

    @Test("C client background jobs of each priority reach the Swift worker")
    func cBackgroundToSwiftWorker() throws {
        let gearmand = try GearmandServer()
        var handles: [String: String] = [:]
        for mode in ["low-bg", "bg", "high-bg"] {
            let client = try LibgearmanOracle.client(gearmand.address, mode: mode, function: "bg", unique: mode,
                                                     payload: Array(mode.utf8) + [0] + Payloads.nuls, in: gearmand.directory)
            let out = String(decoding: client.stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            client.process.waitUntilExit()
            #expect(client.process.terminationStatus == 0)
            handles[mode] = out.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let worker = try GearmanWorker(server: gearmand.address, functions: ["bg"])
        var order: [String] = []
        for _ in 0..<3 {
            let job = try #require(try worker.grab())
            #expect(job.handle == handles[job.unique])
            #expect(job.payload == Array(job.unique.utf8) + [0] + Payloads.nuls)
            order.append(job.unique)
            try worker.complete(job)
        }
        #expect(order == ["high-bg", "bg", "low-bg"])
        #expect(try worker.grab() == nil)
    }
}

/// A stop flag for `nextJob` that turns true after `seconds`: a test fails instead of hanging.
func giveUp(after seconds: Double) -> () -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    return { Date() > deadline }
}
