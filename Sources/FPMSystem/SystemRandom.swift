import CFPMShims
import Glibc

/// The kernel's random bytes (getrandom(2)), for seeding: a worker seeds its request-id
/// generator once after the fork, so ids are unpredictable and differ between workers without
/// a syscall per request.
package enum SystemRandom {
    /// A 64-bit value from the kernel's pool; falls back to the clocks and the pid mixed when
    /// getrandom is unavailable (a very old kernel or a seccomp filter), which still differs
    /// between workers and restarts.
    package static func seed() -> UInt64 {
        var value: UInt64 = 0
        let got = withUnsafeMutableBytes(of: &value) { raw -> Int in
            var filled = 0
            while filled < raw.count {
                let n = cfpm_getrandom(raw.baseAddress! + filled, raw.count - filled)
                if n > 0 { filled += n; continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
            return filled
        }
        if got == MemoryLayout<UInt64>.size && value != 0 { return value }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let mono = UInt64(truncatingIfNeeded: ts.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: ts.tv_nsec)
        clock_gettime(CLOCK_REALTIME, &ts)
        let wall = UInt64(truncatingIfNeeded: ts.tv_nsec) << 32 ^ UInt64(truncatingIfNeeded: ts.tv_sec)
        return mono ^ wall.byteSwapped ^ UInt64(truncatingIfNeeded: getpid()) << 48 | 1
    }
}
