import Glibc

/// C's formatting, where php-fpm's outputs are defined by it: `printf`'s `%.*f` and
/// `strftime` over `localtime_r`. Both append to a caller-owned buffer (``TextRendering`` in
/// FPMStatus is the caller); neither throws: an empty or failed expansion appends nothing.
package enum CFormatting {
    /// Appends `value` as `vsnprintf("%.*f", decimals, value)` writes it (at most 399 bytes).
    package static func appendFixed(_ value: Double, decimals: Int, to buffer: inout [UInt8]) {
        var scratch = [CChar](repeating: 0, count: 400)
        let count = withVaList([Int32(decimals), value]) { args in
            scratch.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress!, $0.count, "%.*f", args) }
        }
        guard count > 0 else { return }
        scratch.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0.prefix(min(Int(count), p.count - 1))) }
        }
    }

    /// Appends the local time of `epoch` formatted by `strftime(format)`. An expansion longer
    /// than 512 bytes (or an empty one) appends nothing, as `strftime` reports both as 0.
    package static func appendLocalTime(epoch: Int, format: UnsafePointer<CChar>, to buffer: inout [UInt8]) {
        var seconds = time_t(epoch)
        var broken = tm()
        guard localtime_r(&seconds, &broken) != nil else { return }
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 512) { scratch in
            let count = strftime(scratch.baseAddress!, scratch.count, format, &broken)
            guard count > 0 else { return }
            UnsafeRawBufferPointer(start: scratch.baseAddress!, count: count).withMemoryRebound(to: UInt8.self) {
                buffer.append(contentsOf: $0)
            }
        }
    }
}
