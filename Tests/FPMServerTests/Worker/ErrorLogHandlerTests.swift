import Foundation
@testable import FPMServer
import Logging
import Testing

/// Handler code logs through swift-log's `Logger`; `ErrorLogHandler` puts those lines in the
/// pool's error log with php-fpm's severities, the logger's label and its metadata.
@Suite("swift-log into the error log")
struct ErrorLogHandlerTests {
    @Test func levelsLabelAndMetadataReachTheErrorLog() throws {
        let path = NSTemporaryDirectory() + "error-log-handler-\(getpid()).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try ErrorLog(destination: .file(path), level: .notice)
        var logger = Logger(label: "guestbook") { ErrorLogHandler(label: $0, log: log) }
        logger[metadataKey: "pool"] = "www"
        logger.info("opened the database", metadata: ["file": "gb.sqlite"])
        logger.critical("disk full")
        logger.debug("below the log level")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(lines)")
        #expect(lines.first?.hasSuffix("NOTICE: [guestbook] opened the database file=gb.sqlite pool=www") == true, "\(lines)")
        #expect(lines.last?.hasSuffix("ALERT: [guestbook] disk full pool=www") == true, "\(lines)")
    }
}
