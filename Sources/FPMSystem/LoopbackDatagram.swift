import CFPMShims
import Glibc

/// A unix datagram socket connected to itself: what is sent on it is received on it. A pool's
/// hand-off needs exactly that (every worker both passes and adopts kept connections), and one
/// descriptor instead of a socketpair's two halves what the master holds per pool.
///
/// It is bound to a kernel-chosen abstract address (autobind), then connected to that address.
/// Once connected, the kernel accepts datagrams on it only from its peer, itself: no other
/// process can inject a descriptor. Anything another process sent in the instant between the
/// bind and the connect is drained and closed before the socket is handed out.
package enum LoopbackDatagram {
    /// A non-blocking, close-on-exec, self-connected unix datagram socket.
    /// The corresponding C functions are `socket`, `bind`, `getsockname`, `connect`, `recvmsg`.
    package static func make() throws(SystemError) -> Int32 {
        let fd = try retrying("socket(AF_UNIX, SOCK_DGRAM)") {
            Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }
        do throws(SystemError) {
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            // A length of just the family asks the kernel for an unused abstract name.
            _ = try retrying("bind(autobind)") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        Glibc.bind(fd, $0, socklen_t(MemoryLayout<sa_family_t>.size))
                    }
                }
            }
            var length = socklen_t(MemoryLayout<sockaddr_un>.size)
            _ = try retrying("getsockname") {
                withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.getsockname(fd, $0, &length) }
                }
            }
            _ = try retrying("connect(own address)") {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, length) }
                }
            }
        } catch {
            Glibc.close(fd)
            throw error
        }
        drain(fd)
        return fd
    }

    /// Discards whatever is queued, closing descriptors that came with it (bounded: the queue
    /// of a socket nobody else can reach any more cannot refill).
    static func drain(_ fd: Int32) {
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { payload in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: 8) { room in
                for _ in 0..<10_000 {
                    let (received, count) = SocketIO.receive(fd, into: payload, descriptors: room)
                    for extra in room[0..<count] { Glibc.close(extra) }
                    if case .wouldBlock = received { return }
                }
            }
        }
    }
}
