import CFPMShims
import Glibc
import SystemPackage

/// systemd's notification protocol without libsystemd: one datagram of `KEY=value` lines to
/// the unix socket `NOTIFY_SOCKET` names (a path, or an abstract name written `@name`).
package enum NotifySocket {
    /// Sends `message` as one datagram to `address`. A fresh socket per message, as
    /// `sd_notify` does: nothing stays open across a reload's exec.
    /// The corresponding C functions are `socket` and `sendto`.
    package static func send(_ message: String, to address: String) throws(SystemError) {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var path = Array(address.utf8)
        guard !path.isEmpty, path.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            throw SystemError("sendto", Errno(rawValue: EINVAL))
        }
        // An abstract socket: a leading NUL instead of the '@', and the length counts no terminator.
        let abstract = path[0] == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
        }
        let offset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        let length = socklen_t(offset + path.count + (abstract ? 0 : 1))
        let fd = try retrying("socket") { Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { Glibc.close(fd) }
        let bytes = Array(message.utf8)
        _ = try retrying("sendto") {
            bytes.withUnsafeBytes { b in
                withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.sendto(fd, b.baseAddress, b.count, Int32(MSG_NOSIGNAL), $0, length)
                    }
                }
            }
        }
    }
}
