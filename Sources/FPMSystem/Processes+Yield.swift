import Glibc

extension Processes {
    /// `sched_yield(2)`: lets another runnable process go first, for a reader spinning on a
    /// writer that may be descheduled (the scoreboard's seqlock). It cannot fail on Linux.
    package static func yieldProcessor() { _ = sched_yield() }
}
