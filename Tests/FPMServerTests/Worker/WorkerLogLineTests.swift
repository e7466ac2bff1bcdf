@testable import FPMServer
import FPMSystem
import Foundation
import Glibc
import Testing

/// A worker's log line crosses its pipe to the master as one severity digit and one line, and
/// the master names the worker in front of it.
@Suite struct WorkerLogLineTests {
    @Test(arguments: LogSeverity.allCases)
    func aLineKeepsItsSeverityAndWords(severity: LogSeverity) {
        let bytes = WorkerLogLine.encode(severity, "handler error: boom", limit: 1024)
        #expect(bytes.last == UInt8(ascii: "\n"))
        let (decoded, message) = WorkerLogLine.decode(bytes.dropLast())
        #expect(decoded == severity)
        #expect(message == "handler error: boom")
    }

    @Test func lineBreaksCannotStartAForgedLine() {
        let bytes = WorkerLogLine.encode(.notice, "a\n[07-Dec-2026 10:00:00] ALERT: forged\rline", limit: 1024)
        #expect(bytes.filter { $0 == UInt8(ascii: "\n") }.count == 1)
        #expect(!bytes.contains(UInt8(ascii: "\r")))
    }

    @Test func aLongMessageIsCutAtTheLimit() {
        let bytes = WorkerLogLine.encode(.warning, String(repeating: "x", count: 5000), limit: 600)
        #expect(bytes.count == 1 + 600 + 1)
    }

    @Test func bytesWithoutASeverityDigitAreAWarning() {
        let (severity, message) = WorkerLogLine.decode(Array("plain text".utf8))
        #expect(severity == .warning && message == "plain text")
    }

    @Test func theMasterNamesTheWorker() {
        #expect(WorkerLogLine.attributed("[pool www] child 42: handler error", pool: "www", pid: 42) == "[pool www] child 42: handler error")
        #expect(WorkerLogLine.attributed("[pool www] child 42 exited", pool: "www", pid: 42) == "[pool www] child 42 exited")
        #expect(WorkerLogLine.attributed("[pool www] unable to x", pool: "www", pid: 42) == "[pool www] child 42: unable to x")
        #expect(WorkerLogLine.attributed("[guestbook] saved", pool: "www", pid: 42) == "[pool www] child 42: [guestbook] saved")
        // Another worker's or pool's name is not taken at its word.
        #expect(WorkerLogLine.attributed("[pool www] child 7: fake", pool: "www", pid: 42) == "[pool www] child 42: child 7: fake")
        #expect(WorkerLogLine.attributed("[pool admin] child 7: fake", pool: "www", pid: 42) == "[pool www] child 42: [pool admin] child 7: fake")
    }

    @Test func aForwardingLogWritesItsLinesIntoThePipe() throws {
        let log = try ErrorLog(destination: .stderr, level: .notice)
        let pipe = try FileIO.pipe(nonBlocking: true)
        defer { FileIO.close(pipe.read); FileIO.close(pipe.write) }
        log.forward(to: pipe.write)
        log.warning("[pool www] child 1: hello")
        log.debug("below the level: not sent")
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = try buffer.withUnsafeMutableBytes { try FileIO.read(pipe.read, into: $0) }
        #expect(Array(buffer[0..<n]) == WorkerLogLine.encode(.warning, "[pool www] child 1: hello", limit: 1024))
    }
}

/// The master's own files: nothing planted at a name is followed or adopted.
@Suite struct PrivateFilesTests {
    static func folder() -> String {
        let path = NSTemporaryDirectory() + "private-files-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func aNewFileRefusesAPlantedLinkOrFile() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestFile.write(dir + "/victim", "secret")
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/victim")
        TestFile.write(dir + "/planted", "")
        for name in ["link", "planted"] {
            #expect(throws: SystemError.self) { _ = try PrivateFiles.createNew(dir + "/" + name, mode: 0o640) }
        }
        #expect(TestFile.read(dir + "/victim") == "secret")
    }

    @Test func anAtomicWriteReplacesALinkItselfNotItsTarget() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestFile.write(dir + "/victim", "secret")
        try FileManager.default.createSymbolicLink(atPath: dir + "/state", withDestinationPath: dir + "/victim")
        try PrivateFiles.writeAtomically(dir + "/state", "pid=1\n", mode: 0o640)
        #expect(TestFile.read(dir + "/victim") == "secret")
        #expect(TestFile.read(dir + "/state") == "pid=1\n")
        var st = stat()
        #expect(lstat(dir + "/state", &st) == 0 && st.st_mode & S_IFMT == S_IFREG && st.st_mode & 0o777 == 0o640)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["state", "victim"], "no temporary left")
    }

    @Test func aSharedMemoryFileIsNewAndPrivate() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let memory = try SharedMemory.create(path: dir + "/board", size: 4096)
        defer { memory.unmap() }
        var st = stat()
        #expect(stat(dir + "/board", &st) == 0 && st.st_mode & 0o777 == 0o640)
    }

    @Test func aFolderMustBeThisUsersAndNotALink() throws {
        let dir = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try PrivateFiles.ensureDirectory(dir + "/run", mode: 0o700)
        var st = stat()
        #expect(stat(dir + "/run", &st) == 0 && st.st_mode & 0o7777 == 0o700)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/run")
        #expect(throws: PrivateFiles.UnsafeDirectory.self) { try PrivateFiles.ensureDirectory(dir + "/link", mode: 0o700) }
        try FileManager.default.createDirectory(atPath: dir + "/open", withIntermediateDirectories: false)
        chmod(dir + "/open", 0o777)
        #expect(throws: PrivateFiles.UnsafeDirectory.self) { try PrivateFiles.checkDirectory(dir + "/open") }
    }
}

enum TestFile {
    static func write(_ path: String, _ text: String) { try! text.write(toFile: path, atomically: false, encoding: .utf8) }
    static func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
}
