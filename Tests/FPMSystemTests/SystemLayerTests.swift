import FPMSystem
import Glibc
import SystemPackage
import Testing

/// Descriptors far above what the test process has open, so closing a span of them touches
/// nothing another test owns.
private let highBase: Int32 = 900

private func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

@Suite("System layer")
struct SystemLayerTests {
    @Test func closeRangesSkipTheKeptDescriptors() {
        #expect(Descriptors.ranges(from: 3, through: 10, except: []) == [3...10])
        #expect(Descriptors.ranges(from: 3, through: 10, except: [5, 7]) == [3...4, 6...6, 8...10])
        // Duplicates, unsorted, at the ends, outside the span, negative (a log without a file).
        #expect(Descriptors.ranges(from: 3, through: 10, except: [10, 3, 7, 7, 42, -1, 1]) == [4...6, 8...9])
        #expect(Descriptors.ranges(from: 3, through: 4, except: [3, 4]) == [])
        #expect(Descriptors.ranges(from: 3, through: Int32.max, except: [Int32.max]) == [3...(Int32.max - 1)])
        #expect(Descriptors.ranges(from: 5, through: 4, except: []) == [])
    }

    @Test func closingFromAFloorHonoursItsExceptions() throws {
        let pipe = try FileIO.pipe()
        defer { FileIO.close(pipe.read); FileIO.close(pipe.write) }
        let fds = (0..<6).map { highBase + $0 }
        for fd in fds { try FileIO.dup2(pipe.read, fd) }
        Descriptors.close(from: highBase, through: highBase + 5, except: [highBase + 2, highBase + 4])
        #expect(fds.map(isOpen) == [false, false, true, false, true, false])
        #expect(isOpen(pipe.read) && isOpen(pipe.write))
        for fd in fds { FileIO.close(fd) }
    }

    @Test func markingCloseOnExecKeepsTheDescriptorsUsable() throws {
        let pipe = try FileIO.pipe()
        defer { FileIO.close(pipe.read); FileIO.close(pipe.write) }
        let fd = highBase + 50
        try FileIO.dup2(pipe.write, fd)  // dup2: not close-on-exec
        defer { FileIO.close(fd) }
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC == 0)
        Descriptors.markCloseOnExec(from: fd)
        #expect(fcntl(fd, F_GETFD) & FD_CLOEXEC != 0)
        try FileIO.writeAll(fd, [7])
        var byte: UInt8 = 0
        let n = try withUnsafeMutableBytes(of: &byte) { b throws(SystemError) in try FileIO.read(pipe.read, into: b) }
        #expect(n == 1 && byte == 7)
    }

    @Test func nonBlockingReadsTellNothingYetFromEndOfFile() throws {
        let pipe = try FileIO.pipe(nonBlocking: true)
        defer { FileIO.close(pipe.read) }
        var buffer = [UInt8](repeating: 0, count: 8)
        let read = { () throws -> Int? in
            try buffer.withUnsafeMutableBytes { try FileIO.readNonBlocking(pipe.read, into: $0) }
        }
        #expect(try read() == nil)
        #expect(try Poll.wait(pipe.read, for: Poll.readable, timeoutMillis: 10) == 0)
        let written = try [UInt8]([1, 2, 3]).withUnsafeBytes { b throws(SystemError) in try FileIO.writeNonBlocking(pipe.write, b) }
        #expect(written == 3)
        #expect(try Poll.wait(pipe.read, for: Poll.readable, timeoutMillis: -1) & Poll.readable != 0)
        #expect(try read() == 3)
        FileIO.close(pipe.write)
        #expect(try read() == 0)
    }

    @Test func aFullPipeTakesNoMoreWithoutBlocking() throws {
        let pipe = try FileIO.pipe(nonBlocking: true)
        defer { FileIO.close(pipe.read); FileIO.close(pipe.write) }
        let chunk = [UInt8](repeating: 0, count: 65536)
        var total = 0
        while let n = try chunk.withUnsafeBytes({ b throws(SystemError) in try FileIO.writeNonBlocking(pipe.write, b) }) {
            total += n
            #expect(total <= 16 << 20)
            if total > 16 << 20 { break }
        }
        #expect(total > 0)
    }

    @Test func statusNamesTheCallAndThePath() throws {
        #expect(try FileSystem.status("/").kind == .directory)
        #expect(try FileSystem.status("/bin/sh").kind == .regular)
        #expect(FileSystem.isDirectory("/tmp") && !FileSystem.isDirectory("/bin/sh"))
        #expect(FileSystem.canAccess("/bin/sh", .execute))
        do {
            _ = try FileSystem.status("/nonexistent/swift-fpm")
            Issue.record("stat of a missing path succeeded")
        } catch {
            #expect(error.call == "stat(/nonexistent/swift-fpm)")
            #expect(error.errno == .noSuchFileOrDirectory)
        }
        #expect(FileSystem.realPath("/tmp/../tmp/.") == "/tmp")
        #expect(FileSystem.readLink("/proc/self/exe") == Processes.executablePath())
    }

    @Test func theEnvironmentIsReadThroughTheShim() {
        let path = String(cString: getenv("PATH"))
        #expect(ProcessEnvironment.entries().contains(Array("PATH=\(path)".utf8)))
        #expect(ProcessEnvironment.dictionary()["PATH"] == path)
    }
}

@Suite("System layer: errno text")
struct SystemLayerErrnoTests {
    @Test func errnoMessagesAreTheCLibrarys() {
        #expect(SystemError.message(for: ENOENT) == "No such file or directory")
        #expect(SystemError.message(for: EPERM) == "Operation not permitted")
    }
}
