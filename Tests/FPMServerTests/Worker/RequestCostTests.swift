@testable import FPMServer
import Testing

/// `RequestCost`: which requests sample getrusage, and what each one reports.
@Suite struct RequestCostTests {
    static let ms = 1_000_000

    /// A scripted getrusage: each call returns the next CPU total (µs, user) and counts itself.
    final class Usage {
        var totals: [Int]
        var calls = 0
        init(_ totals: [Int]) { self.totals = totals }
        func next() -> (cpu: RequestCost.CPU, peakMemory: Int) {
            calls += 1
            return ((totals.removeFirst(), 0), 4096 * calls)
        }
    }

    @Test func aRequestAfterAQuietSpellIsSampledAloneAndExactly() {
        var cost = RequestCost(window: 10 * Self.ms, now: 0, usage: ((1000, 50), 1))
        let usage = Usage([1300])
        let r = cost.end(now: 50 * Self.ms, durationNanos: Self.ms / 10, sample: usage.next)
        #expect(usage.calls == 1)
        #expect(r.cpu.user == 300)
        #expect(r.cpu.system == 0)
        #expect(r.sampledMemory && r.memory == 4096)
    }

    @Test func fastRequestsInsideTheWindowMakeNoCallAndShareTheWindowsMean() {
        var cost = RequestCost(window: 10 * Self.ms, now: 0, usage: ((0, 0), 0))
        let usage = Usage([1000])
        // Four fast requests 1 ms apart: none samples; they report the previous mean (0).
        for i in 1...4 {
            let r = cost.end(now: i * Self.ms, durationNanos: 50_000, sample: usage.next)
            #expect(r.cpu.user == 0 && !r.sampledMemory)
        }
        #expect(usage.calls == 0)
        // The fifth, past the window: one call, the window's CPU shared by the five.
        let fifth = cost.end(now: 11 * Self.ms, durationNanos: 50_000, sample: usage.next)
        #expect(usage.calls == 1)
        #expect(fifth.cpu.user == 200)
        // The next fast one reports that mean without a call.
        let sixth = cost.end(now: 12 * Self.ms, durationNanos: 50_000, sample: usage.next)
        #expect(usage.calls == 1)
        #expect(sixth.cpu.user == 200 && sixth.memory == 4096)
    }

    @Test func aSlowRequestIsSampledAndChargedWhatTheFastOnesBeforeItDidNotUse() {
        var cost = RequestCost(window: 10 * Self.ms, now: 0, usage: ((0, 0), 0))
        let usage = Usage([1000, 1100, 21_100])
        _ = cost.end(now: 20 * Self.ms, durationNanos: 50_000, sample: usage.next)  // mean 1000
        #expect(cost.mean.user == 1000)
        _ = cost.end(now: 40 * Self.ms, durationNanos: 50_000, sample: usage.next)  // mean 100
        _ = cost.end(now: 41 * Self.ms, durationNanos: 50_000, sample: usage.next)  // unsampled
        // 20 ms long, 9 ms after the last sample: sampled for its own length; the fast one
        // before it is charged the mean (100), the rest is this request's.
        let slow = cost.end(now: 49 * Self.ms, durationNanos: 20 * Self.ms, sample: usage.next)
        #expect(usage.calls == 3)
        #expect(slow.cpu.user == 20_000 - 100)
    }

    @Test func windowZeroSamplesEveryRequest() {
        var cost = RequestCost(window: 0, now: 0, usage: ((0, 0), 0))
        let usage = Usage([10, 30, 60])
        let a = cost.end(now: 1, durationNanos: 1, sample: usage.next)
        let b = cost.end(now: 2, durationNanos: 1, sample: usage.next)
        let c = cost.end(now: 3, durationNanos: 1, sample: usage.next)
        #expect(usage.calls == 3)
        #expect([a.cpu.user, b.cpu.user, c.cpu.user] == [10, 20, 30])
    }

    @Test func anAccessLogWithCPUOrMemoryAsksForEveryRequestsCost() throws {
        #expect(try AccessLogFormat(parsing: "%m %r %C").usesCost)
        #expect(try AccessLogFormat(parsing: "%{kilo}M").usesCost)
        #expect(try !AccessLogFormat(parsing: "%R - %u %t \"%m %r\" %s").usesCost)
    }
}
