import FPMSystem

/// Descriptors the master's pure bookkeeping knows by number — the workers' control channels
/// (`ProcessControl.Child.control`), the copies of their kept connections
/// (`KeptConnectionRegistry`), a reload's preparation output and new listeners
/// (`ProcessControl.Reload`) — owned here, so each is closed once, through `close(_:)`, and
/// none is dropped open. Values stay numbers where decisions are made and tested; the
/// descriptors themselves have one owner. A class per entry: `OwnedDescriptor` is
/// noncopyable and a dictionary's values must be copyable. Master-side only (one allocation
/// per worker or kept connection, nothing on a worker's request path).
struct DescriptorTable {
    private final class Entry {
        var owner: OwnedDescriptor?
        init(_ fd: Int32) { owner = OwnedDescriptor(owning: fd) }
    }

    private var entries: [Int32: Entry] = [:]

    var count: Int { entries.count }

    func contains(_ fd: Int32) -> Bool { entries[fd] != nil }

    /// Takes `fd` over. A number already in the table was closed behind its owner's back and
    /// reused: that is a bug, caught here.
    mutating func adopt(_ fd: Int32) {
        precondition(entries[fd] == nil, "descriptor \(fd) adopted twice: closed behind its owner's back")
        entries[fd] = Entry(fd)
    }

    /// Closes `fd` if the table owns it (once: a second call finds nothing).
    mutating func close(_ fd: Int32) {
        entries.removeValue(forKey: fd)?.owner.take()?.close()
    }
}
