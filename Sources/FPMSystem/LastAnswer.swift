import CFPMShims

/// The worker's last answer for the request in hand: when a handler traps (SIGILL/SIGTRAP
/// from a Swift runtime error, SIGSEGV, SIGBUS, SIGABRT, SIGFPE) or runs past
/// request_terminate_timeout, a signal handler writes a complete `Status: 500` / `504` and
/// END_REQUEST on its connection before the worker dies, so nginx shows that answer instead
/// of a bare 502 and does not retry the request on another worker. The response bytes are
/// constants in the C shim; the handler only calls `send` (async-signal-safe).
///
/// Cost per request: `arm` and `disarm` are plain stores. With a terminate timeout, the
/// ITIMER_REAL timer is set only when none is pending (at most once per timeout period under
/// load, never while idle): when it fires for an earlier request, the handler re-arms it for
/// the current one's deadline.
package enum LastAnswer {
    /// Installs the crash handlers, and the timer's when `terminateSeconds` > 0. Once per worker.
    /// The corresponding C function is `sigaction`.
    package static func install(terminateSeconds: Int) {
        cfpm_answer_install(Int32(clamping: terminateSeconds))
    }

    /// The request on `fd` (id `requestID`, started at monotonic `startedNanos`) is in hand.
    /// The corresponding C function is `setitimer` (only when no timer is pending).
    @inline(__always)
    package static func arm(fd: Int32, requestID: UInt16, startedNanos: Int) {
        cfpm_answer_arm(fd, requestID, Int64(startedNanos))
    }

    /// Response bytes have gone out: a last answer now only ends the request.
    @inline(__always)
    package static func responseStarted() { cfpm_answer_response_started() }

    /// The request is answered: nothing to write if the worker dies now.
    @inline(__always)
    package static func disarm() { cfpm_answer_disarm() }
}
