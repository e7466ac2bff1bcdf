import Glibc

extension Processes {
    /// Memory only this process uses (bytes): `Private_Clean + Private_Dirty` from
    /// /proc/self/smaps_rollup. Copy-on-write pages still shared with the master (or siblings)
    /// do not count, so a freshly forked worker starts near zero; nil where the kernel has no
    /// smaps_rollup. It walks the page tables, so call it only when a limit is near (peak RSS
    /// from `usage()` is the cheap upper bound to test first).
    /// The corresponding C functions are `open` and `read` of /proc/self/smaps_rollup.
    package static func privateMemory() -> Int? {
        guard let bytes = FileIO.readFile("/proc/self/smaps_rollup", limit: 8192) else { return nil }
        var total = 0
        var found = false
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard line.starts(with: "Private_Clean:".utf8) || line.starts(with: "Private_Dirty:".utf8) else { continue }
            var kilobytes = 0
            for b in line where b >= 0x30 && b <= 0x39 { kilobytes = kilobytes * 10 + Int(b - 0x30) }
            total += kilobytes * 1024
            found = true
        }
        return found ? total : nil
    }
}
