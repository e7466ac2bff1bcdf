/// When to try again after a connection to gearmand failed or dropped: the delay doubles
/// from `initialMillis` with each consecutive failure up to `maximumMillis`, and never stops
/// (a job server that comes back is reached within one maximum delay, and a dead one costs
/// one attempt per maximum delay, not a busy loop). A success starts over. A pure value: the
/// caller sleeps or polls for the delay it returns, so the schedule is unit-tested without a
/// clock.
public struct ReconnectBackoff: Sendable, Equatable {
    public let initialMillis: Int
    public let maximumMillis: Int
    /// Spread of the delay, 0...1: a delay is scaled into `[1 - jitter, 1]` of its value so
    /// that many workers cut off at once do not all reconnect in the same instant.
    public let jitter: Double
    /// Consecutive failures since the last success.
    public private(set) var failures = 0

    public init(initialMillis: Int = 100, maximumMillis: Int = 2_000, jitter: Double = 0.25) {
        precondition(initialMillis > 0 && maximumMillis >= initialMillis, "backoff needs 0 < initial <= maximum")
        self.initialMillis = initialMillis
        self.maximumMillis = maximumMillis
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before the next attempt after `failures` consecutive failures, without jitter:
    /// 0 before the first failure, then initial, 2×initial, … up to the maximum.
    public static func delay(afterFailures failures: Int, initialMillis: Int, maximumMillis: Int) -> Int {
        guard failures > 0 else { return 0 }
        var delay = initialMillis
        for _ in 1..<min(failures, 63) {
            delay *= 2
            if delay >= maximumMillis { return maximumMillis }
        }
        return min(delay, maximumMillis)
    }

    /// Records a failed attempt; returns how long to wait before the next one. `random` is a
    /// value in 0..<1 (the caller's random source; tests pass fixed ones).
    public mutating func failed(random: Double) -> Int {
        failures += 1
        let base = Self.delay(afterFailures: failures, initialMillis: initialMillis, maximumMillis: maximumMillis)
        let unit = min(max(random, 0), 1)
        return max(1, Int((Double(base) * (1 - jitter * unit)).rounded()))
    }

    /// Records a success: the next failure waits `initialMillis` again.
    public mutating func succeeded() {
        failures = 0
    }
}
