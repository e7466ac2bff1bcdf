import Glibc

/// The process environment read without trapping when it is empty.
///
/// After `clearenv()` (clear_env = yes and no env[…]) glibc sets `environ` to NULL, and the
/// Glibc module's `environ` getter, typed non-optional, traps on it. This reads the variable's
/// address from the dynamic linker instead and treats NULL as empty.
package enum ProcessEnvironment {
    /// `NAME=value` entries, as bytes, in `environ` order.
    package static func entries() -> [[UInt8]] {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "environ") else { return [] }
        let variable = symbol.assumingMemoryBound(to: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?.self)
        guard var p = variable.pointee else { return [] }
        var result: [[UInt8]] = []
        while let entry = p.pointee {
            result.append(Array(UnsafeRawBufferPointer(start: entry, count: strlen(entry))))
            p += 1
        }
        return result
    }

    /// The environment as a dictionary (the first of duplicate names wins, as getenv does).
    package static func dictionary() -> [String: String] {
        var result: [String: String] = [:]
        for entry in entries() {
            guard let eq = entry.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: entry[..<eq], as: UTF8.self)
            if result[name] == nil { result[name] = String(decoding: entry[(eq + 1)...], as: UTF8.self) }
        }
        return result
    }
}
