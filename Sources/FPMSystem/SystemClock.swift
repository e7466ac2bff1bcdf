import CFPMShims
import Glibc

/// Time sources. Durations use the monotonic clock, which is system-wide, so a worker's
/// start stamp in the scoreboard can be compared with the master's `now`.
package enum SystemClock {
    /// Monotonic nanoseconds.
    @inline(__always)
    package static func monotonicNanos() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int(ts.tv_sec) * 1_000_000_000 + Int(ts.tv_nsec)
    }

    /// Wall-clock (seconds, microseconds).
    @inline(__always)
    package static func wallClock() -> (seconds: Int, microseconds: Int) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (Int(ts.tv_sec), Int(ts.tv_nsec) / 1000)
    }

    package static func epochSeconds() -> Int { wallClock().seconds }

    @inline(__always)
    package static func epochMicros() -> Int {
        let (s, us) = wallClock()
        return s * 1_000_000 + us
    }

    /// Sleeps for `nanos`, the whole of it even when signals interrupt (never in the master's
    /// loop, which waits in epoll).
    /// The corresponding C function is `nanosleep`.
    package static func sleep(nanos: Int) {
        var ts = timespec(tv_sec: nanos / 1_000_000_000, tv_nsec: nanos % 1_000_000_000)
        var rest = timespec()
        while nanosleep(&ts, &rest) == -1 && errno == EINTR { ts = rest }
    }
}
