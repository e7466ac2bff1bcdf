import CFPMShims
import Glibc

/// The process environment read without trapping when it is empty.
///
/// After `clearenv()` (clear_env = yes and no env[…]) glibc sets `environ` to NULL, and the
/// Glibc module's `environ` getter, typed non-optional, traps on it. This reads it through a C
/// shim, where it is an optional pointer, and treats NULL as empty.
package enum ProcessEnvironment {
    /// `NAME=value` entries, as bytes, in `environ` order.
    /// The corresponding C variable is `environ`.
    package static func entries() -> [[UInt8]] {
        guard var p = cfpm_environ() else { return [] }
        var result: [[UInt8]] = []
        while let entry = p.pointee {
            result.append(Array(UnsafeRawBufferPointer(start: entry, count: strlen(entry))))
            p += 1
        }
        return result
    }

    /// One variable of the environment, or nil. The corresponding C function is `getenv`.
    package static func value(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
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
