import FPMSystem

/// A request's CPU time and the worker's peak memory, for the scoreboard (`last request cpu`,
/// `last request memory`), the access log and pm.max_memory, without a getrusage per request.
///
/// getrusage is sampled at the end of a request only when the previous sample is at least
/// `window` old or the request itself took that long. A worker serving a few requests a second
/// (or a slow request) therefore samples every request, exactly as before: its CPU is the
/// difference to the previous sample. A busy one samples once per window and gives each of
/// the requests in between the window's mean, so a kept connection's fast request costs no
/// syscall (libfcgi makes none either). A slow request sampled after fast ones is charged the
/// difference less the fast ones at the previous mean. `window` 0 samples every request (an
/// access log with `%C` or `%M` asks for that, its lines being per request, and pm.max_memory,
/// whose check must not let a leaking request's growth wait for the next sample).
struct RequestCost {
    typealias CPU = (user: Int, system: Int)

    let window: Int
    /// The CPU and peak memory at the last sample, and when it was taken (monotonic ns).
    private(set) var sampled: CPU
    private(set) var sampledAt: Int
    private(set) var memory = 0
    /// Requests ended since the last sample (not counting the one being ended).
    private(set) var unsampled = 0
    /// The mean CPU per request of the last sampled window: what an unsampled request reports.
    private(set) var mean: CPU = (0, 0)

    /// 10 ms: at most a hundred getrusage calls a second however many requests are served.
    static let defaultWindow = 10_000_000

    init(window: Int = RequestCost.defaultWindow, now: Int, usage: (cpu: CPU, peakMemory: Int)) {
        self.window = window
        sampled = usage.cpu
        sampledAt = now
        memory = usage.peakMemory
    }

    /// Whether the request that ends at `now` after `durationNanos` samples getrusage.
    @inline(__always) func samples(now: Int, durationNanos: Int) -> Bool {
        now &- sampledAt >= window || durationNanos >= window
    }

    /// The request that just ended: its CPU and the worker's peak memory. `sample` is called
    /// (getrusage) only when `samples` says so; `sampledMemory` says whether memory is fresh.
    mutating func end(now: Int, durationNanos: Int,
                      sample: () -> (cpu: CPU, peakMemory: Int)) -> (cpu: CPU, memory: Int, sampledMemory: Bool) {
        guard samples(now: now, durationNanos: durationNanos) else {
            unsampled += 1
            return (mean, memory, false)
        }
        let usage = sample()
        let delta: CPU = (max(0, usage.cpu.user - sampled.user), max(0, usage.cpu.system - sampled.system))
        let count = unsampled + 1
        var own = delta
        if count > 1 {
            if durationNanos >= window {
                // A slow request after fast ones: they are charged at the previous mean.
                own = (max(0, delta.user - mean.user * unsampled), max(0, delta.system - mean.system * unsampled))
            } else {
                own = (delta.user / count, delta.system / count)
            }
            mean = (delta.user / count, delta.system / count)
        } else {
            mean = delta
        }
        sampled = usage.cpu
        sampledAt = now
        memory = usage.peakMemory
        unsampled = 0
        return (own, memory, true)
    }
}
