import Gearman
import Testing

@Suite("Reconnect backoff schedule")
struct ReconnectBackoffTests {
    @Test("doubles from the initial delay to the cap and stays there, never giving up")
    func schedule() {
        let delays = (0...10).map { ReconnectBackoff.delay(afterFailures: $0, initialMillis: 100, maximumMillis: 2000) }
        #expect(delays == [0, 100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000])
        #expect(ReconnectBackoff.delay(afterFailures: 10_000, initialMillis: 100, maximumMillis: 2000) == 2000)
        #expect(ReconnectBackoff.delay(afterFailures: .max, initialMillis: 1, maximumMillis: 5000) == 5000)
    }

    @Test("jitter shortens a delay by at most its fraction; no jitter is exact")
    func jitter() {
        var plain = ReconnectBackoff(initialMillis: 100, maximumMillis: 1000, jitter: 0)
        #expect([plain.failed(random: 0.9), plain.failed(random: 0.1), plain.failed(random: 0.5)] == [100, 200, 400])
        var spread = ReconnectBackoff(initialMillis: 1000, maximumMillis: 1000, jitter: 0.25)
        #expect(spread.failed(random: 0) == 1000)
        #expect(spread.failed(random: 1) == 750)
        #expect(spread.failed(random: 0.5) == 875)
        #expect(spread.failures == 3)
    }

    @Test("a success starts the schedule over")
    func reset() {
        var backoff = ReconnectBackoff(initialMillis: 50, maximumMillis: 400, jitter: 0)
        for _ in 0..<5 { _ = backoff.failed(random: 0) }
        #expect(backoff.failed(random: 0) == 400)
        backoff.succeeded()
        #expect(backoff.failures == 0)
        #expect(backoff.failed(random: 0) == 50)
    }
}
