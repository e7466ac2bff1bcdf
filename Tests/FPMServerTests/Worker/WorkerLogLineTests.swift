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
