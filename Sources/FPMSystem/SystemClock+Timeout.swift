/// Every wait in the server (poll, epoll) takes whole milliseconds while deadlines are kept in
/// monotonic nanoseconds: one rounding, up, so a wait never ends before its deadline.
extension SystemClock {
    /// Milliseconds from `now` until `deadline` (both monotonic nanoseconds), rounded up;
    /// 0 once the deadline has passed, Int32.max at most.
    @inline(__always)
    package static func millisecondsLeft(until deadline: Int, now: Int) -> Int32 {
        Int32(clamping: max(0, (deadline - now + 999_999) / 1_000_000))
    }
}
