import Atomics
import FPMSystem

/// New trace and span ids: SplitMix64 over a per-process state seeded from getrandom(2) on
/// first use, which is in the worker, after the fork (the master never draws an id).
///
/// Why not getrandom per id: a syscall per request for ids that need to be unique, not secret.
/// Why not a counter mixed with the pid and the time: pids and coarse clocks repeat across
/// restarts and hosts, so two workers could draw the same ids; a random 64-bit seed makes that
/// as unlikely as random ids, at the cost of one syscall per worker. An atomic add keeps it
/// safe if a worker draws ids from more than one thread (async handlers).
package enum RequestIDGenerator {
    private static let state = ManagedAtomic<UInt64>(0)
    private static let seeded = ManagedAtomic<Bool>(false)

    /// Seeds from the kernel; the first ``next()`` does it when nothing did before.
    package static func reseed() {
        state.store(SystemRandom.seed(), ordering: .relaxed)
        seeded.store(true, ordering: .releasing)
    }

    /// 64 random-looking bits.
    @inline(__always)
    package static func next() -> UInt64 {
        if !seeded.load(ordering: .acquiring) { reseed() }
        var z = state.wrappingIncrementThenLoad(by: 0x9E37_79B9_7F4A_7C15, ordering: .relaxed)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// As ``next()``, never 0 (W3C ids may not be all zero).
    @inline(__always)
    package static func nextNonZero() -> UInt64 {
        let value = next()
        return value == 0 ? 1 : value
    }
}
