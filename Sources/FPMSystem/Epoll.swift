import CFPMShims
import Glibc
import SystemPackage

/// An epoll instance: the master's event loop and each worker's wait on its listener, control
/// channel and idle kept connections.
package struct Epoll: ~Copyable {
    package let fd: Int32
    private var datas = [UInt64](repeating: 0, count: 64)
    private var events = [UInt32](repeating: 0, count: 64)

    package struct Event: Sendable {
        package var data: UInt64
        package var flags: UInt32
        package var readable: Bool { flags & (CFPM_EPOLLIN | CFPM_EPOLLHUP | CFPM_EPOLLERR) != 0 }
        package var hangup: Bool { flags & (CFPM_EPOLLHUP | CFPM_EPOLLERR | CFPM_EPOLLRDHUP) != 0 }
    }

    package static let input = CFPM_EPOLLIN
    package static let output = CFPM_EPOLLOUT
    package static let edgeTriggered = CFPM_EPOLLET
    package static let exclusive = CFPM_EPOLLEXCLUSIVE
    package static let peerClosed = CFPM_EPOLLRDHUP

    package init() throws(SystemError) {
        fd = try checked("epoll_create1") { cfpm_epoll_create() }
    }

    deinit { Glibc.close(fd) }

    package func add(_ target: Int32, events: UInt32, data: UInt64) throws(SystemError) {
        _ = try checked("epoll_ctl(ADD)") { cfpm_epoll_add(fd, target, events, data) }
    }

    package func modify(_ target: Int32, events: UInt32, data: UInt64) throws(SystemError) {
        _ = try checked("epoll_ctl(MOD)") { cfpm_epoll_mod(fd, target, events, data) }
    }

    package func remove(_ target: Int32) {
        _ = cfpm_epoll_del(fd, target)
    }

    /// Waits up to `timeout` milliseconds (-1: forever). EINTR yields an empty result.
    package mutating func wait(timeout: Int32, _ body: (Event) -> Void) throws(SystemError) {
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
