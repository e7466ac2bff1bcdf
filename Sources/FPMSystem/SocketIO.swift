import CFPMShims
import Glibc
import SystemPackage

/// The socket calls a worker makes between requests and while it reads one: receiving into a
/// caller's buffer with or without blocking, waiting for one descriptor, and passing
/// descriptors (SCM_RIGHTS) over the control channel and the pool's hand-off socket.
package enum SocketIO {
    /// What a receive found.
    package enum Received: Equatable, Sendable {
        /// This many bytes (at least one) are in the buffer.
        case bytes(Int)
        /// The peer closed its end, or reset it: either way nothing more will come.
        case endOfStream
        /// Nothing to read now (non-blocking receive only).
        case wouldBlock
    }

    /// `recv(2)` into `buffer`, retrying EINTR; `wait` false adds MSG_DONTWAIT. A reset is
    /// reported as `.endOfStream`: for the worker a reset peer and a closed one are the same.
    /// The corresponding C function is `recv`.
    @inline(__always)
    package static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                                wait: Bool) throws(SystemError) -> Received {
        let flags = wait ? Int32(0) : Int32(MSG_DONTWAIT)
        while true {
            let n = Glibc.recv(fd, buffer.baseAddress, buffer.count, flags)
            if n > 0 { return .bytes(n) }
            if n == 0 { return .endOfStream }
            switch Glibc.errno {
            case EINTR: continue
            case EAGAIN: return .wouldBlock
            case ECONNRESET: return .endOfStream
            case let e: throw SystemError("recv", Errno(rawValue: e))
            }
        }
    }

    /// Whether a byte is there to read now, without taking it (`recv` with MSG_PEEK): false at
    /// the end of the stream, on an error, or when nothing came yet.
    package static func hasInput(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = Glibc.recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            if n > 0 { return true }
            if n < 0 && Glibc.errno == EINTR { continue }
            return false
        }
    }

    /// `send(2)` without blocking and without SIGPIPE: how many bytes the socket took (0 when
    /// its buffer is full), so a writer can bound how long it waits for the peer to read.
    /// The corresponding C function is `send`.
    @inline(__always)
    package static func sendSome(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) -> Int {
        while true {
            let n = Glibc.send(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if n >= 0 { return n }
            switch Glibc.errno {
            case EINTR: continue
            case EAGAIN: return 0
            case let e: throw SystemError("send", Errno(rawValue: e))
            }
        }
    }

    /// Waits up to `timeoutMillis` (-1: no limit) for `fd` to become readable or hung up;
    /// false on timeout or failure. A signal restarts the wait with the time left.
    /// The corresponding C function is `poll`.
    package static func waitReadable(_ fd: Int32, timeoutMillis: Int32) -> Bool {
        ((try? Poll.wait(fd, for: Poll.readable, timeoutMillis: timeoutMillis)) ?? 0) != 0
    }

    /// Sends one message, `payload` with `descriptors` attached as SCM_RIGHTS, never blocking
    /// (MSG_DONTWAIT) and never raising SIGPIPE; false when it was not sent whole (the peer's
    /// buffer is full, the peer is gone). The descriptors stay open here: the receiver gets
    /// its own copies. The corresponding C function is `sendmsg`.
    package static func send(_ fd: Int32, _ payload: UnsafeRawBufferPointer,
                             passing descriptors: UnsafeBufferPointer<Int32>) -> Bool {
        // A control message is a cmsghdr, then the descriptors, each part padded to size_t
        // (CMSG_LEN / CMSG_SPACE, which are macros Swift cannot import).
        let align = MemoryLayout<Int>.size
        func aligned(_ n: Int) -> Int { (n + align - 1) & ~(align - 1) }
        let headerSize = aligned(MemoryLayout<cmsghdr>.size)
        let dataSize = descriptors.count * MemoryLayout<Int32>.size
        let space = descriptors.isEmpty ? 0 : headerSize + aligned(dataSize)
        return withUnsafeTemporaryAllocation(byteCount: max(space, 1), alignment: MemoryLayout<cmsghdr>.alignment) { control in
            var iov = iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count)
            return withUnsafeMutablePointer(to: &iov) { iovPointer in
                var message = msghdr()
                message.msg_iov = iovPointer
                message.msg_iovlen = 1
                if space > 0 {
                    control.initializeMemory(as: UInt8.self, repeating: 0)
                    let header = control.baseAddress!.bindMemory(to: cmsghdr.self, capacity: 1)
                    header.pointee.cmsg_len = headerSize + dataSize
                    header.pointee.cmsg_level = SOL_SOCKET
                    header.pointee.cmsg_type = Int32(SCM_RIGHTS)
                    (control.baseAddress! + headerSize).copyMemory(from: descriptors.baseAddress!, byteCount: dataSize)
                    message.msg_control = control.baseAddress
                    message.msg_controllen = space
                }
                while true {
                    let n = Glibc.sendmsg(fd, &message, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                    if n == -1 && Glibc.errno == EINTR { continue }
                    return n == payload.count
                }
            }
        }
    }

    /// Receives one message without blocking: its bytes into `payload`, the descriptors that
    /// came with it (close-on-exec) into `descriptors`, closing any beyond its room. Returns
    /// what was received and how many descriptors were stored; a failure other than a reset
    /// means nothing was received, and is reported as `.wouldBlock`.
    /// The corresponding C function is `recvmsg`.
    package static func receive(_ fd: Int32, into payload: UnsafeMutableRawBufferPointer,
                                descriptors: UnsafeMutableBufferPointer<Int32>) -> (Received, descriptorCount: Int) {
        var count: Int32 = 0
        while true {
            let n = cfpm_recv_fds(fd, descriptors.baseAddress, Int32(descriptors.count), &count,
                                  payload.baseAddress, payload.count)
            if n > 0 { return (.bytes(n), Int(count)) }
            if n == 0 { return (.endOfStream, Int(count)) }
            switch Glibc.errno {
            case EINTR: continue
            case ECONNRESET: return (.endOfStream, 0)
            default: return (.wouldBlock, 0)
            }
        }
    }

    /// Writes one byte to a self-pipe, from a signal handler: async-signal-safe (a bare
    /// `write`, no allocation) and leaving `errno` as the interrupted code had it. A full pipe
    /// already holds a wake-up, so a failed write is fine.
    /// The corresponding C function is `write`.
    package static func notify(selfPipe fd: Int32) {
        let saved = Glibc.errno
        var byte: UInt8 = 1
        _ = Glibc.write(fd, &byte, 1)
        Glibc.errno = saved
    }
}

extension SystemError {
    /// The process ran out of descriptors or socket buffers (EMFILE, ENOBUFS): worth a warning
    /// in the log, unlike a peer that went away before `accept` took it.
    package var isOutOfResources: Bool {
        errno == .tooManyOpenFiles || errno == .tooManyOpenFilesInSystem || errno == .noBufferSpace || errno == .noMemory
    }
}
