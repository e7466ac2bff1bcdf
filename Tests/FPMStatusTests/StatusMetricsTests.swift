@testable import FPMStatus
import FPMSystem
import Foundation
import Testing

/// The scoreboard's request-duration histogram and limits, and how OpenMetrics shows them.
@Suite struct StatusMetricsTests {
    func makeBoard() throws -> (Scoreboard, String) {
        let path = NSTemporaryDirectory() + "sb-metrics-\(UUID().uuidString)"
        let sb = try Scoreboard(create: path, pool: "www", listen: "127.0.0.1:9000", pm: 0, slots: 2, maxChildren: 2,
                                limits: Scoreboard.Limits(startServers: 2, minSpareServers: 1, maxSpareServers: 3,
                                                          maxRequests: 500, terminateTimeout: 30, processIdleTimeout: 10),
                                masterPID: 42, generation: 1)
        return (sb, path)
    }

    /// One request of `micros` through the slot as a worker runs it.
    func serve(_ slot: Scoreboard.Slot, micros: Int) {
        slot.beginRequest(now: 1_000_000_000, epochMicros: 0)
        slot.endRequest(now: 1_000_000_000 + micros * 1000, cpuUserMicros: 0, cpuSystemMicros: 0, memory: 0)
        slot.markIdle(now: 1_000_000_000 + micros * 1000)
    }

    @Test func endRequestAddsToThePoolsHistogramFromEverySlot() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        sb.slot(0).claim(pid: 10, generation: 1)
        sb.slot(1).claim(pid: 11, generation: 1)
        serve(sb.slot(0), micros: 3_000)        // ≤ 5 ms
        serve(sb.slot(1), micros: 5_000)        // ≤ 5 ms (bounds are inclusive)
        serve(sb.slot(1), micros: 700_000)      // ≤ 1 s
        serve(sb.slot(0), micros: 60_000_000)   // +Inf
        let other = try Scoreboard(open: path)
        defer { other.memory.unmap() }
        let h = other.durationHistogram
        #expect(h.counts.count == Scoreboard.durationBucketsMicros.count + 1)
        #expect(h.counts[0] == 2)
        #expect(h.counts[Scoreboard.durationBucketsMicros.firstIndex(of: 1_000_000)!] == 1)
        #expect(h.counts.last == 1)
        #expect(h.count == 4)
        #expect(h.sumMicros == 3_000 + 5_000 + 700_000 + 60_000_000)
        #expect(other.limits == Scoreboard.Limits(startServers: 2, minSpareServers: 1, maxSpareServers: 3, maxRequests: 500,
                                                  terminateTimeout: 30, processIdleTimeout: 10))
    }

    @Test func theAdditionsFitTheHeader() {
        #expect(Scoreboard.H.masterHeartbeat >= Scoreboard.H.memoryReplacements + 8)
        #expect(Scoreboard.H.histogramSum + 8 <= Scoreboard.H.rejectedRequests)
        #expect(Scoreboard.H.rejectedRequests + 8 <= Scoreboard.headerSize)
    }

    @Test func aNewWorkersSlotShowsNothingOfItsPredecessor() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        let slot = sb.slot(0)
        slot.claim(pid: 10, generation: 1)
        slot.beginRequest(now: 1, epochMicros: 1)
        let method = Array("POST".utf8), uri = Array("/old".utf8), script = Array("/srv/old.php".utf8)
        method.withUnsafeBytes { m in uri.withUnsafeBytes { u in script.withUnsafeBytes { s in
            slot.requestInfo(method: m, uri: u, query: u, script: s, user: m, contentLength: 5, now: 2)
        } } }
        slot.release()
        slot.claim(pid: 11, generation: 1)
        let snap = try #require(sb.snapshot(0))
        #expect(snap.pid == 11 && snap.requests == 0 && snap.contentLength == 0)
        #expect(snap.method.isEmpty && snap.uri.isEmpty && snap.query.isEmpty && snap.script.isEmpty && snap.user.isEmpty)
    }

    @Test func anExecWorkersObservedStage() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        let slot = sb.slot(0)
        slot.claim(pid: 10, generation: 1)
        slot.observe(busy: true, now: 5_000_000_000)
        #expect(sb.snapshot(0)?.stage == .running)
        slot.observe(busy: true, now: 6_000_000_000)  // still the same request: its clock keeps running
        #expect(sb.snapshot(0)?.acceptedMono == 5_000_000_000)
        slot.observe(busy: false, now: 7_000_000_000)
        let snap = try #require(sb.snapshot(0))
        #expect(snap.stage == .idle && snap.durationMicros == 2_000_000)
    }

    @Test func theCollectorPrefersTheLiveQueue() throws {
        let (sb, path) = try makeBoard()
        defer { unlink(path) }
        sb.listenQueue = 1
        sb.maxListenQueue = 2
        sb.listenQueueLength = 128
        let (stored, _) = StatusCollector.collect(sb)
        #expect(stored.listenQueue == 1 && stored.maxListenQueue == 2 && stored.listenQueueLen == 128)
        let (live, _) = StatusCollector.collect(sb, liveQueue: (length: 7, backlog: 4096))
        #expect(live.listenQueue == 7 && live.maxListenQueue == 7 && live.listenQueueLen == 4096)
    }

    @Test func openMetricsShowsCumulativeBucketsCountAndSum() {
        var counts = [Int](repeating: 0, count: Scoreboard.durationBucketsMicros.count + 1)
        counts[0] = 2
        counts[7] = 1
        counts[counts.count - 1] = 1
        let pool = PoolStatus(pool: "www", processManager: "static", startTime: 0, startSince: 1, maxChildren: 2,
                              limits: Scoreboard.Limits(startServers: 2, maxRequests: 500),
                              requestDurations: Scoreboard.DurationHistogram(counts: counts, sumMicros: 1_500_000))
        let text = StatusPage.render(pool: pool, processes: [], format: .openmetrics, full: false).bodyText
        #expect(OpenMetricsRendering.bucketLabels == ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0"])
        #expect(text.contains("""
            # TYPE phpfpm_request_duration_seconds histogram
            phpfpm_request_duration_seconds_bucket{le="0.005"} 2
            phpfpm_request_duration_seconds_bucket{le="0.01"} 2
            """))
        #expect(text.contains("phpfpm_request_duration_seconds_bucket{le=\"0.5\"} 2\nphpfpm_request_duration_seconds_bucket{le=\"1.0\"} 3\n"))
        #expect(text.contains("phpfpm_request_duration_seconds_bucket{le=\"+Inf\"} 4\nphpfpm_request_duration_seconds_count 4\nphpfpm_request_duration_seconds_sum 1.500000\n"))
        #expect(text.contains("# TYPE phpfpm_max_requests gauge\nphpfpm_max_requests 500\n"))
        #expect(text.hasSuffix("# EOF\n"))
    }
}
