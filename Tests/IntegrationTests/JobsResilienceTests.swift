import Foundation
import Gearman
import GearmanClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// gearmand going away and coming back, and a leaking job handler under pm.max_memory.
@Suite(.serialized) struct JobsResilienceTests {
    @Test func jobsResumeAfterGearmandRestartsAndIdleWorkersStayQuietMeanwhile() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-restart", pools: JobPools.pool(gearmand, children: 2))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("record")?.workers ?? 0) == 2 })
        try gearmand.submitBackground(function: "record", count: 10, unique: { "before-\($0)" })
        #expect(TestSupport.waitUntil(timeout: 5) { JobPools.done(fpm).count == 10 })

        gearmand.kill()
        #expect(fpm.waitForLog("unreachable"), "\(fpm.log)")
        // While it is down: the workers retry on a backoff, not in a loop.
        let workers = fpm.workers
        let ticks = Dictionary(uniqueKeysWithValues: workers.map { ($0, JobPools.cpuTicks($0) ?? 0) })
        let window = 2.0
        Thread.sleep(forTimeInterval: window)
        let hertz = Double(sysconf(Int32(_SC_CLK_TCK)))
        for pid in workers {
            guard let now = JobPools.cpuTicks(pid), let before = ticks[pid] else { continue }
            let share = Double(now - before) / hertz / window
            print("worker \(pid) CPU while gearmand is down: \(String(format: "%.2f", share * 100)) %")
            #expect(share < 0.05)
        }
        #expect(fpm.count("unreachable") == workers.count, "one line per worker and change of state: \(fpm.log)")

        let restarted = Date()
        try gearmand.start()
        try gearmand.submitBackground(function: "record", count: 10, unique: { "after-\($0)" })
        let resumed = TestSupport.waitUntil(timeout: 5) { JobPools.done(fpm).filter { $0.hasPrefix("after-") }.count == 10 }
        print("jobs resumed \(String(format: "%.2f", Date().timeIntervalSince(restarted))) s after gearmand restarted")
        #expect(resumed, "\(fpm.log.suffix(2000))")
        #expect(fpm.log.contains("connected to gearmand \(gearmand.address) again"))
    }

    @Test func workersTakeJobsFromEveryServerAndGoOnWhenOneIsGone() throws {
        let first = try JobServer()
        let second = try JobServer()
        let pool = JobPools.pool(first, children: 2).replacingOccurrences(
            of: "gearman.servers = \(first.address)", with: "gearman.servers = \(first.address), \(second.address)")
        let fpm = try FPMServer(name: "jobs-two", pools: pool)
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) {
            (first.status("record")?.workers ?? 0) == 2 && (second.status("record")?.workers ?? 0) == 2
        })
        try first.submitBackground(function: "record", count: 20, unique: { "one-\($0)" })
        try second.submitBackground(function: "record", count: 20, unique: { "two-\($0)" })
        #expect(TestSupport.waitUntil(timeout: 5) { Set(JobPools.done(fpm)).count == 40 })
        first.kill()
        try second.submitBackground(function: "record", count: 20, unique: { "after-\($0)" })
        #expect(TestSupport.waitUntil(timeout: 5) { Set(JobPools.done(fpm)).count == 60 }, "\(fpm.log.suffix(1500))")
        // One server of two answering: the pool is connected, its backlog the other's.
        #expect(TestSupport.waitUntil(timeout: 5) {
            ((try? fpm.fpmctl(["status", "--pid", fpm.pidPath]).stdout) ?? "").contains("gearman:              connected")
        })
    }

    @Test func aWorkerKilledMidJobCostsNoJob() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-kill", pools: JobPools.pool(gearmand, children: 1, functions: "slow"))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("slow")?.workers ?? 0) == 1 })
        try gearmand.submitBackground(function: "slow", count: 1, unique: { _ in "killed-mid-job" }, payload: Array("600".utf8))
        #expect(TestSupport.waitUntil(timeout: 5) { (gearmand.status("slow")?.running ?? 0) == 1 })
        let victim = try #require(fpm.workers.first)
        kill(victim, SIGKILL)
        // gearmand gives the job to the replacement, which runs it to its end.
        #expect(TestSupport.waitUntil(timeout: 10) { JobPools.done(fpm) == ["killed-mid-job"] }, "\(fpm.log)")
        #expect(!TestSupport.read(fpm.dir + "/done.txt").contains(" \(victim)\n"))
    }

    @Test func requestTerminateTimeoutEndsAJobAndGearmandKeepsIt() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-terminate", pools: JobPools.pool(gearmand, extra: "request_terminate_timeout = 1s",
                                                                             children: 2, functions: "slow, record"))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("slow")?.workers ?? 0) == 2 })
        try gearmand.submitBackground(function: "slow", count: 1, unique: { _ in "too-long" }, payload: Array("30000".utf8))
        #expect(fpm.waitForLog("(request: \"JOB slow\") execution timed out"), "\(fpm.log)")
        // The other worker (and the replacement) go on with other jobs meanwhile.
        try gearmand.submitBackground(function: "record", count: 5, unique: { "ok-\($0)" })
        #expect(TestSupport.waitUntil(timeout: 5) { JobPools.done(fpm).filter { $0.hasPrefix("ok-") }.count == 5 })
        // Never acknowledged: gearmand still has it (queued again, or running in a new worker).
        #expect((gearmand.status("slow")?.total ?? 0) == 1)
        #expect(!JobPools.done(fpm).contains("too-long"))
    }

    @Test func aGracefulStopFinishesTheJobInHand() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-quit", pools: JobPools.pool(gearmand, children: 1, functions: "slow"))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("slow")?.workers ?? 0) == 1 })
        try gearmand.submitBackground(function: "slow", count: 1, unique: { _ in "in-hand" }, payload: Array("800".utf8))
        #expect(TestSupport.waitUntil(timeout: 5) { (gearmand.status("slow")?.running ?? 0) == 1 })
        // SIGQUIT: the master stops gracefully; the worker grabs nothing more, finishes its job.
        fpm.child.signal(SIGQUIT)
        #expect(TestSupport.waitUntil(timeout: 10) { !fpm.child.process.isRunning }, "\(fpm.log)")
        #expect(JobPools.done(fpm) == ["in-hand"], "\(fpm.log)")
        #expect(gearmand.status("slow").map { $0.total == 0 } ?? true, "the job was acknowledged")
    }

    @Test func maxRequestsCountsJobs() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-maxreq", pools: JobPools.pool(gearmand, extra: "pm.max_requests = 10", children: 2))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("record")?.workers ?? 0) == 2 })
        try gearmand.submitBackground(function: "record", count: 60, unique: { "m-\($0)" })
        #expect(TestSupport.waitUntil(timeout: 10) { Set(JobPools.done(fpm)).count == 60 })
        // Each worker's pid in the done file served at most 10 jobs.
        let lines = TestSupport.read(fpm.dir + "/done.txt").split(separator: "\n")
        let perWorker = Dictionary(grouping: lines, by: { $0.split(separator: " ")[1] }).mapValues(\.count)
        print("max_requests = 10: 60 jobs over \(perWorker.count) workers, at most \(perWorker.values.max() ?? 0) each")
        #expect(perWorker.values.allSatisfy { $0 <= 10 } && perWorker.count >= 6, "\(perWorker)")
        // A worker leaves after its 10th job before any grab carried that job's WORK_COMPLETE:
        // it is sent before the exit, so gearmand hands no job out twice.
        #expect(TestSupport.waitUntil(timeout: 10) { gearmand.status("record")?.total == 0 })
        let runs = TestSupport.read(fpm.dir + "/done.txt").split(separator: "\n").count
        #expect(runs == 60, "\(runs) runs of 60 jobs: a completion was lost at a worker's exit")
    }

    @Test func aLeakingHandlerIsRecycledUnderMaxMemory() throws {
        let gearmand = try JobServer()
        let fpm = try FPMServer(name: "jobs-leak", pools: JobPools.pool(gearmand, extra: "pm.max_memory = 32M", children: 2, functions: "leak"))
        defer { fpm.stop() }
        #expect(TestSupport.waitUntil(timeout: 10) { (gearmand.status("leak")?.workers ?? 0) == 2 })
        try gearmand.submitBackground(function: "leak", count: 150, unique: { "leak-\($0)" })
        var peakRSS = 0
        let drained = TestSupport.waitUntil(timeout: 30, interval: 0.05) {
            for pid in fpm.workers { peakRSS = max(peakRSS, Self.rss(pid) ?? 0) }
            guard let status = gearmand.status("leak") else { return false }
            return status.total == 0
        }
        let recycled = fpm.count("passed pm.max_memory")
        print("leak: 150 jobs of 1 MiB each, \(recycled) workers recycled, peak RSS \(peakRSS / 1024) MiB")
        #expect(drained, "\(fpm.log.suffix(2000))")
        #expect(recycled >= 3)
        #expect(peakRSS < 64 * 1024, "peak RSS \(peakRSS) KiB")
    }

    /// VmRSS of a process, KiB.
    static func rss(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }
}
