import Glibc

/// The master's descriptors, by rule: each one the master opens for itself (epoll, signalfd,
/// listeners, hand-off sockets, access logs, the workers' channels and output pipes, the kept
/// connections' copies, the status listeners and their connections) is registered when it is
/// made and leaves when it is closed (`FileIO.close` and `OwnedDescriptor.close` unregister).
/// A freshly forked worker then keeps what it needs (`keep`) and closes the rest in one
/// `closeRegistered()`, instead of a list of the master's fields kept by hand that the next
/// field added would miss.
///
/// A bit per descriptor number in one buffer, sized at `activate` to the descriptor limit (it
/// grows in the master if the limit rose). `keep` and `closeRegistered` neither allocate nor do
/// anything but `close`: async-signal-safe, usable between fork and exec. Inactive (every call
/// a no-op) until the master activates it; a child's `closeRegistered` leaves it inactive, so
/// workers and tools never register.
///
/// Process-wide on purpose: a fork copies the whole process, and the registry with it.
/// Single-threaded use (the master's loop, then the child before it starts any thread).
package enum DescriptorRegistry {
    nonisolated(unsafe) private static var words: UnsafeMutablePointer<UInt64>?
    nonisolated(unsafe) private static var wordCount = 0
    nonisolated(unsafe) private static var active = false

    /// Starts registering: the master, once, before it opens anything.
    package static func activate(capacity: Int = Processes.descriptorLimit) {
        reserve(capacity)
        active = true
    }

    /// Whether registration is on (the master) or off (workers, tools, tests that did not ask).
    package static var isActive: Bool { active }

    /// Notes `fd` as the master's own. A no-op when inactive or for a negative number.
    package static func register(_ fd: Int32) {
        guard active, fd >= 0 else { return }
        let index = Int(fd) >> 6
        if index >= wordCount { reserve((index + 1) * 64 * 2) }
        words![index] |= 1 << UInt64(fd & 63)
    }

    /// `fd` is closed (or handed to someone else): no longer the master's to close in a child.
    /// Allocation-free; a write only when the bit was set.
    @inline(__always)
    package static func unregister(_ fd: Int32) {
        guard fd >= 0, Int(fd) >> 6 < wordCount, let words else { return }
        let bit: UInt64 = 1 << UInt64(fd & 63)
        if words[Int(fd) >> 6] & bit != 0 { words[Int(fd) >> 6] &= ~bit }
    }

    /// In a child, before `closeRegistered`: `fd` is one of the master's that this child keeps.
    @inline(__always)
    package static func keep(_ fd: Int32) { unregister(fd) }

    /// Whether `fd` is registered.
    package static func contains(_ fd: Int32) -> Bool {
        guard fd >= 0, Int(fd) >> 6 < wordCount, let words else { return false }
        return words[Int(fd) >> 6] & (1 << UInt64(fd & 63)) != 0
    }

    /// How many descriptors are registered.
    package static var count: Int {
        var n = 0
        for i in 0..<wordCount { n += words![i].nonzeroBitCount }
        return n
    }

    /// In a freshly forked child: closes every registered descriptor (all the master's but the
    /// ones passed to `keep`), clears the registry and turns it off. No allocation:
    /// async-signal-safe.
    /// The corresponding C function is `close`.
    package static func closeRegistered() {
        active = false
        guard let words else { return }
        for i in 0..<wordCount {
            var word = words[i]
            words[i] = 0
            while word != 0 {
                let bit = word.trailingZeroBitCount
                word &= word - 1
                _ = Glibc.close(Int32(i * 64 + bit))
            }
        }
    }

    /// Room for descriptor numbers below `capacity` (the master only: allocates).
    private static func reserve(_ capacity: Int) {
        let needed = (min(max(capacity, 64), 1 << 24) + 63) / 64
        guard needed > wordCount else { return }
        let grown = UnsafeMutablePointer<UInt64>.allocate(capacity: needed)
        grown.initialize(repeating: 0, count: needed)
        if let words {
            grown.update(from: words, count: wordCount)
            words.deallocate()
        }
        words = grown
        wordCount = needed
    }
}
