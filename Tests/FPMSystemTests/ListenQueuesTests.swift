import FPMSystem
import Glibc
import Testing

/// The listen queues of many listeners are read in one pass and agree with one-at-a-time reads.
@Suite struct ListenQueuesTests {
    @Test func manyUnixAndTCPListenersAreReadTogether() throws {
        let dir = "/tmp/swift-fpm-queues.\(getpid())"
        mkdir(dir, 0o700)
        defer { rmdir(dir) }
        var listeners: [Int32] = []
        var paths: [String] = []
        defer {
            for fd in listeners { FileIO.close(fd) }
            for path in paths { unlink(path) }
        }
        for i in 0..<40 {
            let path = "\(dir)/l\(i).sock"
            paths.append(path)
            listeners.append(try Socket.listenUnix(path: path, backlog: Int32(10 + i), mode: 0o600, owner: nil, group: nil))
        }
        // A TCP listener on a port the kernel picks.
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var sin = sockaddr_in()
        sin.sin_family = sa_family_t(AF_INET)
        sin.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &sin) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(tcp, 7) == 0)
        listeners.append(tcp)
        // Three connections wait on listener 5, one on listener 39.
        var clients: [Int32] = []
        defer { for fd in clients { close(fd) } }
        for (index, count) in [(5, 3), (39, 1)] {
            for _ in 0..<count {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { room in
                    for (i, b) in paths[index].utf8.enumerated() { room[i] = b }
                }
                let ok = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                #expect(ok == 0)
                clients.append(fd)
            }
        }
        let together = Socket.listenQueues(listeners)
        #expect(together.count == listeners.count)
        for (fd, queue) in zip(listeners, together) {
            let alone = try #require(Socket.listenQueue(fd))
            let batch = try #require(queue)
            #expect(batch.length == alone.length && batch.backlog == alone.backlog)
        }
        #expect(together[5]?.length == 3)
        #expect(together[39]?.length == 1)
        #expect(together[0]?.length == 0)
        #expect(together[0]?.backlog == 10)
        #expect(together[40]?.backlog == 7)
        #expect(Socket.listenQueues([]).isEmpty)
    }
}
