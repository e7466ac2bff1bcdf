import Foundation
@testable import FPMServer
import Testing

/// What the error log's own file descriptor is: kept at one number across a reopen (logrotate),
/// closed when the log leaves the file (for stderr, or a worker forwarding its lines).
@Suite("The error log's file")
struct ErrorLogFileTests {
    /// What `fd` names now, read from /proc (nil when it is not open). A number reused by
    /// another test meanwhile names another file, so "not `path`" is what the tests expect.
    private func target(_ fd: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")
    }

    private func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "error-log-file-\(name)-\(getpid()).log"
    }

    @Test func aReopenKeepsTheNumberAndWritesToTheNewFile() throws {
        let path = temporaryPath("reopen"), rotated = path + ".1"
        defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: rotated) }
        let log = try ErrorLog(destination: .file(path), level: .notice)
        let fd = log.fd
        #expect(fd > 2 && target(fd) == path)
        try FileManager.default.moveItem(atPath: path, toPath: rotated)
        try log.reopen()
        #expect(log.fd == fd && target(fd) == path)
        log.notice("after the rotation")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains("after the rotation"))
        #expect(try !String(contentsOfFile: rotated, encoding: .utf8).contains("after the rotation"))
        try log.change(to: .stderr, level: .notice, limit: 1024)
    }

    @Test func leavingTheFileClosesIt() throws {
        let path = temporaryPath("leave")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try ErrorLog(destination: .file(path), level: .notice)
        let fd = log.fd
        try log.change(to: .stderr, level: .notice, limit: 1024)
        #expect(log.fd == 2)
        #expect(target(fd) != path)

        let forwarding = try ErrorLog(destination: .file(path), level: .notice)
        let forwarded = forwarding.fd
        #expect(target(forwarded) == path)
        forwarding.forward(to: -1)
        #expect(forwarding.fd == -1)
        #expect(target(forwarded) != path)
    }
}
