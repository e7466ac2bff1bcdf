import CFPMShims
import Glibc
import SystemPackage

/// Thin, typed wrappers over descriptor I/O. The corresponding C functions are named in each.
package enum FileIO {
    /// `read(2)`; returns 0 at EOF.
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        try retrying("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// One `read(2)` on a non-blocking descriptor: the byte count (0 at EOF), or nil when
    /// nothing is there yet (EAGAIN). EINTR is retried.
    /// The corresponding C function is `read`.
    package static func readNonBlocking(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        do throws(SystemError) {
            return try retrying("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
        } catch where error.errno == .wouldBlock {
            return nil
        }
    }

    /// One `write(2)` on a non-blocking descriptor: how many bytes it took (maybe fewer than
    /// offered), or nil when it is full (EAGAIN). EINTR is retried; EPIPE is an error (the
    /// caller ignores SIGPIPE or has it blocked).
    /// The corresponding C function is `write`.
    package static func writeNonBlocking(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        do throws(SystemError) {
            return try retrying("write") { Glibc.write(fd, buffer.baseAddress, buffer.count) }
        } catch where error.errno == .wouldBlock {
            return nil
        }
    }

    /// `write(2)` until every byte is written (blocking descriptors).
    package static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < buffer.count {
            let n = try retrying("write") { Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
            offset += n
        }
    }

    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        let failure = bytes.withUnsafeBytes { b -> SystemError? in
            do throws(SystemError) { try writeAll(fd, b); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    package static func writeAll(_ fd: Int32, _ string: String) throws(SystemError) {
        var s = string
        let failure = s.withUTF8 { b -> SystemError? in
            do throws(SystemError) { try writeAll(fd, UnsafeRawBufferPointer(b)); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// `send(2)` with MSG_NOSIGNAL: a peer that went away is an error, never a SIGPIPE.
    package static func sendAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) throws(SystemError) {
        var offset = 0
        while offset < buffer.count {
            let n = try retrying("send") {
                Glibc.send(fd, buffer.baseAddress! + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            offset += n
        }
    }

    /// Closes a descriptor held bare; it leaves `DescriptorRegistry` too.
    package static func close(_ fd: Int32) {
        DescriptorRegistry.unregister(fd)
        _ = Glibc.close(fd)
    }

    /// `open(2)` with O_CLOEXEC always added.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> Int32 {
        try retrying("open(\(path))") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// `dup2(2)`; the new descriptor does not have FD_CLOEXEC.
    package static func dup2(_ from: Int32, _ to: Int32) throws(SystemError) {
        _ = try retrying("dup2") { Glibc.dup2(from, to) }
    }

    package static func setCloseOnExec(_ fd: Int32, _ on: Bool) throws(SystemError) {
        let flags = try retrying("fcntl(F_GETFD)") { Glibc.fcntl(fd, F_GETFD) }
        let new = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC
        _ = try retrying("fcntl(F_SETFD)") { Glibc.fcntl(fd, F_SETFD, new) }
    }

    package static func setNonBlocking(_ fd: Int32, _ on: Bool) throws(SystemError) {
        let flags = try retrying("fcntl(F_GETFL)") { Glibc.fcntl(fd, F_GETFL) }
        let new = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        _ = try retrying("fcntl(F_SETFL)") { Glibc.fcntl(fd, F_SETFL, new) }
    }

    /// `pipe2(2)` with O_CLOEXEC.
    package static func pipe(nonBlocking: Bool = false) throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retrying("pipe2") { cfpm_pipe2(&fds, O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)) }
        return (fds[0], fds[1])
    }

    /// A connected pair of unix stream sockets (close-on-exec).
    package static func socketPair() throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retrying("socketpair") {
            Glibc.socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        }
        return (fds[0], fds[1])
    }

    /// A connected pair of non-blocking unix datagram sockets (close-on-exec): one message per
    /// send, so descriptors passed with SCM_RIGHTS arrive one handful at a time.
    package static func datagramPair() throws(SystemError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        _ = try retrying("socketpair") {
            Glibc.socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds)
        }
        return (fds[0], fds[1])
    }

    package static func unlink(_ path: String) {
        _ = Glibc.unlink(path)
    }

    package static func rename(_ from: String, _ to: String) throws(SystemError) {
        _ = try retrying("rename(\(from), \(to))") { Glibc.rename(from, to) }
    }

    /// Writes a whole small file atomically; see `PrivateFiles.writeAtomically` (nothing
    /// planted at the temporary or the final name is followed).
    package static func writeFileAtomically(_ path: String, _ contents: String, mode: mode_t = 0o644,
                                            group: gid_t? = nil) throws(SystemError) {
        try PrivateFiles.writeAtomically(path, contents, mode: mode, group: group)
    }

    /// Reads a whole (small) file, or nil when it cannot be opened.
    package static func readFile(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        guard let fd = try? open(path, O_RDONLY) else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { (try? read(fd, into: $0)) ?? -1 }
            if n <= 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }
}
