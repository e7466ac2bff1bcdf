/// Read-only bytes built once in ``Handler/warmUp(_:)`` and shared by every worker of the pool.
///
/// Why a buffer and not objects: the workers are forked from the pool's warm template, so its
/// memory is shared copy-on-write until someone writes to a page. Swift writes to every class
/// instance, array and string it retains or releases (the reference count lives in the object),
/// so a lookup structure made of objects gets copied page by page into each worker as requests
/// read it. A `WarmTable` is one allocation with no references inside and no reference count
/// (a struct over a raw pointer, never freed: it lives as long as the process), so reading it
/// writes nothing and its pages stay shared. Keep offsets or fixed-size records in it, not
/// pointers to other Swift values.
public struct WarmTable: @unchecked Sendable {
    /// The table's bytes (read-only by convention after `init`).
    public let bytes: UnsafeRawBufferPointer

    /// Allocates `count` bytes and lets `fill` write them, once.
    public init(count: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 4096)
        try fill(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
        bytes = UnsafeRawBufferPointer(rebasing: storage[0..<count])
    }

    /// The byte count.
    public var count: Int { bytes.count }

    /// The byte at `offset`.
    public subscript(offset: Int) -> UInt8 { bytes[offset] }
}
