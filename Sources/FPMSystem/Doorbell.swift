import CFPMShims

/// A wake-up between threads for one sleeper: the async executor's thread sleeps on it when it
/// has no job, and a thread that enqueues a job rings it. A futex word, so a ring nobody waits
/// for costs one atomic exchange and no system call (doorbell.c).
package final class Doorbell: @unchecked Sendable {
    /// Only touched through the C shim's atomics.
    private let word: UnsafeMutablePointer<UInt32>

    package init() {
        word = .allocate(capacity: 1)
        word.initialize(to: 0)
    }

    deinit { word.deallocate() }

    /// Wakes the sleeper, or makes its next `wait` return at once.
    /// The corresponding C function is `futex` (FUTEX_WAKE, only when someone sleeps).
    package func ring() { cfpm_doorbell_ring(word) }

    /// Returns once the bell has rung since the previous `wait` returned.
    /// The corresponding C function is `futex` (FUTEX_WAIT).
    package func wait() { cfpm_doorbell_wait(word) }
}
