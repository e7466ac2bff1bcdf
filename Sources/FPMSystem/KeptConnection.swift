import CFPMShims

/// The calls behind the master's duplicates of kept connections (kept_handoff.c): a worker
/// reports each connection it keeps or hands on over its control channel, and shuts a
/// connection down before closing it, so the duplicate does not hold it open.
package enum KeptConnection {
    /// Every report is this long (code, descriptor number, peer payload).
    package static let reportSize = Int(CFPM_KEPT_REPORT_SIZE)

    /// Sends a report without blocking; a `kept` one ('K') passes `fd` as SCM_RIGHTS.
    /// `payload` is nil or `SlowRequestHandoff.payloadSize` bytes. False when not sent whole.
    /// The corresponding C function is `sendmsg`.
    package static func report(over channel: Int32, code: UInt8, fd: Int32, payload: UnsafeRawBufferPointer?) -> Bool {
        cfpm_kept_report(channel, code, fd, payload?.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
    }

    /// Ends the connection for every process holding it (the web server sees the close even
    /// while the master's duplicate is open). Failures (already closed by the peer) are moot.
    /// The corresponding C function is `shutdown`.
    package static func shutdown(_ fd: Int32) { _ = cfpm_kept_shutdown(fd) }

    /// Whether the connection is hung up (closed by the peer, or shut down), without waiting.
    /// The corresponding C function is `poll`.
    package static func isHungUp(_ fd: Int32) -> Bool { cfpm_kept_hung_up(fd) == 1 }
}
