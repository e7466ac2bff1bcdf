import CFPMShims

/// Closing, or marking close-on-exec, every descriptor above a floor: what a process does
/// before it runs something that must not inherit our descriptors (the CGI child before exec,
/// an exec pool's worker, the daemonized master dropping what its launcher inherited).
///
/// One implementation, `cfpm_close_range`: the `close_range` system call, or one loop over the
/// descriptors below RLIMIT_NOFILE (at most 65536) on a kernel without it.
package enum Descriptors {
    /// Closes every descriptor from `first` up. One call, no allocation: async-signal-safe, so a
    /// child may use it between fork and exec.
    /// The corresponding C function is `close_range`.
    package static func closeAll(from first: Int32) {
        guard first >= 0 else { return }
        _ = cfpm_close_range(UInt32(first), UInt32.max, 0)
    }

    /// Closes every descriptor from `first` up except those in `kept`: `close_range` over the
    /// gaps between them. Allocates: not for use between fork and exec.
    /// The corresponding C function is `close_range`.
    package static func closeAll(from first: Int32, except kept: [Int32]) {
        close(from: first, through: Int32.max, except: kept)
    }

    /// Closes the descriptors `first...last` except those in `kept`.
    /// The corresponding C function is `close_range`.
    package static func close(from first: Int32, through last: Int32, except kept: [Int32] = []) {
        for range in ranges(from: first, through: last, except: kept) {
            _ = cfpm_close_range(UInt32(range.lowerBound), UInt32(range.upperBound), 0)
        }
    }

    /// Marks every descriptor from `first` up close-on-exec; they stay usable until an exec.
    /// The corresponding C function is `close_range` with CLOSE_RANGE_CLOEXEC.
    package static func markCloseOnExec(from first: Int32) {
        guard first >= 0 else { return }
        _ = cfpm_close_range(UInt32(first), UInt32.max, 1)
    }

    /// `first...last` without the descriptors in `kept`, as the ranges between them (empty ones
    /// left out). Exceptions outside the span, negative ones included, change nothing.
    package static func ranges(from first: Int32, through last: Int32, except kept: [Int32]) -> [ClosedRange<Int32>] {
        let first = max(first, 0)
        guard first <= last else { return [] }
        var result: [ClosedRange<Int32>] = []
        var start = first
        for fd in Set(kept).sorted() where fd >= start && fd <= last {
            if fd > start { result.append(start...(fd - 1)) }
            if fd == last { return result }
            start = fd + 1
        }
        result.append(start...last)
        return result
    }
}
