import CFPMShims
import Glibc
import SystemPackage

/// An epoll instance: the master's event loop and each worker's wait on its listener, control
/// channel and idle kept connections.
public struct Epoll: ~Copyable {
    public let fd: Int32
    private var datas = [UInt64](repeating: 0, count: 64)
    private var events = [UInt32](repeating: 0, count: 64)

    public struct Event: Sendable {
        public var data: UInt64
        public var flags: UInt32
        public var readable: Bool { flags & (CFPM_EPOLLIN | CFPM_EPOLLHUP | CFPM_EPOLLERR) != 0 }
        public var hangup: Bool { flags & (CFPM_EPOLLHUP | CFPM_EPOLLERR | CFPM_EPOLLRDHUP) != 0 }
    }

    public static let input = CFPM_EPOLLIN
    public static let edgeTriggered = CFPM_EPOLLET
    public static let exclusive = CFPM_EPOLLEXCLUSIVE
    public static let peerClosed = CFPM_EPOLLRDHUP

    public init() throws(SystemError) {
        fd = try checked("epoll_create1") { cfpm_epoll_create() }
    }

    deinit { Glibc.close(fd) }

    public func add(_ target: Int32, events: UInt32, data: UInt64) throws(SystemError) {
        _ = try checked("epoll_ctl(ADD)") { cfpm_epoll_add(fd, target, events, data) }
    }

    public func modify(_ target: Int32, events: UInt32, data: UInt64) throws(SystemError) {
        _ = try checked("epoll_ctl(MOD)") { cfpm_epoll_mod(fd, target, events, data) }
    }

    public func remove(_ target: Int32) {
        _ = cfpm_epoll_del(fd, target)
    }

    /// Waits up to `timeout` milliseconds (-1: forever). EINTR yields an empty result.
    public mutating func wait(timeout: Int32, _ body: (Event) -> Void) throws(SystemError) {
        let epfd = fd
        let n = datas.withUnsafeMutableBufferPointer { d in
            events.withUnsafeMutableBufferPointer { e in
                cfpm_epoll_wait(epfd, d.baseAddress, e.baseAddress, 64, timeout)
            }
        }
        if n < 0 {
            if errno == EINTR { return }
            throw SystemError("epoll_wait", .init(rawValue: errno))
        }
        for i in 0..<Int(n) { body(Event(data: datas[i], flags: events[i])) }
    }
}
