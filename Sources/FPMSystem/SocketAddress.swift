import CFPMShims
import Glibc
import SystemPackage

/// The local address a socket is bound to, as socket activation matches descriptors to pools.
package enum BoundAddress: Sendable, Equatable, CustomStringConvertible {
    /// IPv4 (4 bytes) or IPv6 (16 bytes), with the port.
    case inet(bytes: [UInt8], port: Int)
    case unix(path: String)

    package var description: String {
        switch self {
        case .inet(let bytes, let port):
            let peer = PeerAddress(family: bytes.count == 4 ? .ipv4 : .ipv6, bytes: bytes, port: port)
            return bytes.count == 4 ? "\(peer.text):\(port)" : "[\(peer.text)]:\(port)"
        case .unix(let path): return path
        }
    }
}

extension Socket {
    /// `getsockname(2)`: what `fd` is bound to; nil for other families or an unnamed socket.
    /// An IPv4-mapped IPv6 address is reported as IPv4.
    /// The corresponding C function is `getsockname`.
    package static func localAddress(_ fd: Int32) -> BoundAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        switch Int32(storage.ss_family) {
        case AF_INET, AF_INET6:
            let peer = PeerAddress(storage: storage)
            return .inet(bytes: peer.bytes, port: peer.port)
        case AF_UNIX:
            let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let count = Int(length) - offset
            guard count > 0 else { return nil }
            let path: [UInt8] = withUnsafeBytes(of: &storage) { raw in
                Array(raw[offset..<(offset + count)]).prefix { $0 != 0 }.map { $0 }
            }
            return path.isEmpty ? nil : .unix(path: String(decoding: path, as: UTF8.self))
        default:
            return nil
        }
    }

    /// The numeric address a literal host names (`127.0.0.1`, `::1`; IPv4-mapped as IPv4), or nil.
    package static func literalBytes(_ host: String) -> [UInt8]? {
        PeerAddress(literal: host)?.bytes
    }
}
