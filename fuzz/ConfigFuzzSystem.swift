// What Sources/FPMConfiguration/ConfigurationFileSystem+System.swift gives the module, for the
// fuzzer, which compiles FPMConfiguration's sources without FPMSystem (mk/config.mk): no real
// file system (the fuzzer loads with `.isolated` anyway) and the same IP-literal check.
import Glibc

extension ConfigurationFileSystem {
    public static let system = ConfigurationFileSystem.isolated
}

extension SystemLookup {
    static func isIPAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return buffer.withUnsafeMutableBytes { raw in
            inet_pton(AF_INET, text, raw.baseAddress) == 1 || inet_pton(AF_INET6, text, raw.baseAddress) == 1
        }
    }
}
