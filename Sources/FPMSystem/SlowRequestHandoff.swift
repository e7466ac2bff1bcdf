import CFPMShims
import Glibc
import SystemPackage

/// A worker's idle kept connections, as its slow-request timer sees them: when a request has
/// been in hand for the threshold, a signal handler passes them to the pool's hand-off socket
/// so none waits behind that request (see kept_handoff.c). Only fast stores per request; the
/// worker closes what was passed once the request is answered.
package enum SlowRequestHandoff {
    /// The size of the payload each listed connection carries (HandoffMessage's encoding).
    package static let payloadSize = 19

    /// Once per worker, before any connection is listed.
    /// The corresponding C functions are `sigaction` and `timer_create`.
    /// `controlChannel` (-1: none) gets a report of each connection passed on (`KeptConnectionReport`).
    package static func install(handoffSocket: Int32, controlChannel: Int32, thresholdNanos: Int) throws(SystemError) {
        if cfpm_kept_install(handoffSocket, controlChannel, Int64(thresholdNanos)) != 0 {
            throw SystemError("timer_create", Errno(rawValue: errno))
        }
    }

    /// Lists an idle kept connection; false when the list is full (it is then only not passed on).
    @discardableResult
    package static func add(_ fd: Int32, payload: UnsafeRawBufferPointer) -> Bool {
        precondition(payload.count == payloadSize)
        return cfpm_kept_add(fd, payload.baseAddress!.assumingMemoryBound(to: UInt8.self)) == 0
    }

    /// The connection is no longer an idle kept one of this worker (closed, or passed on).
    package static func remove(_ fd: Int32) { cfpm_kept_remove(fd) }

    /// A request on `fd` began at monotonic `startedNanos`.
    /// The corresponding C function is `timer_settime` (only when none is pending).
    @inline(__always)
    package static func busy(fd: Int32, startedNanos: Int) { cfpm_kept_busy(fd, Int64(startedNanos)) }

    /// The request is answered.
    @inline(__always)
    package static func idle() { cfpm_kept_idle() }

    /// Whether the handler passed connections on that the worker has not taken back yet.
    @inline(__always)
    package static var hasHanded: Bool { cfpm_kept_handed_count() > 0 }

    /// Calls `body` with each connection passed on since the last call, forgetting them.
    package static func takeHanded(_ body: (Int32) -> Void) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 64) { room in
            while true {
                let n = Int(cfpm_kept_take_handed(room.baseAddress!, 64))
                for i in 0..<n { body(room[i]) }
                if n < 64 { return }
            }
        }
    }
}
