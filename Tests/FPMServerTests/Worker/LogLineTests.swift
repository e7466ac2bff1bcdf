@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// 27-Nov-2026 18:27:53 UTC, when the php-fpm 8.2 used for these goldens started.
private let started = (seconds: 1_795_804_073, microseconds: 712_502)

private func fileLine(_ level: LogSeverity, _ message: String, limit: Int? = nil, debug: Bool = false,
                      origin: LogLine.Origin? = nil, at time: (seconds: Int, microseconds: Int) = started) -> String {
    _ = TestTimeZone.utc
    return LogLine.format(level: level, message: message, time: time, limit: limit, debugTimestamp: debug,
                          origin: origin)
}

@Suite("Error log lines in php-fpm's format")
struct LogLineTests {
    @Test func noticeLineMatchesPHPFPM() {
        #expect(fileLine(.notice, "fpm is running, pid 15592") == "[27-Nov-2026 18:27:53] NOTICE: fpm is running, pid 15592\n")
    }

    @Test(arguments: zip(LogSeverity.allCases, ["DEBUG", "NOTICE", "WARNING", "ERROR", "ALERT"]))
    func everyLevelHasPHPFPMsWord(level: LogSeverity, word: String) {
        #expect(level.label == word)
        #expect(fileLine(level, "m") == "[27-Nov-2026 18:27:53] \(word): m\n")
    }

    @Test func levelsAreOrderedBySeriousness() {
        #expect(LogSeverity.allCases.sorted() == [.debug, .notice, .warning, .error, .alert])
        #expect(LogSeverity.warning > .notice)
    }

    /// The reference's debug line (PHP-FPM-REFERENCE.md §6.3).
    @Test func debugLevelAddsMicrosecondsAndOrigin() {
        let line = fileLine(
            .debug, "[pool dyn] currently 0 active children, 78 spare children, 78 running children. Spawning rate 1",
            debug: true,
            origin: .init(pid: 21276, function: "fpm_pctl_perform_idle_server_maintenance", line: 398),
            at: (1_795_799_210, 712_502))
        #expect(line == "[27-Nov-2026 17:06:50.712502] DEBUG: pid 21276, fpm_pctl_perform_idle_server_maintenance(), line 398: [pool dyn] currently 0 active children, 78 spare children, 78 running children. Spawning rate 1\n")
    }

    @Test func microsecondsArePaddedToSixDigits() {
        #expect(fileLine(.notice, "x", debug: true, at: (started.seconds, 5)) == "[27-Nov-2026 18:27:53.000005] NOTICE: x\n")
    }

    @Test func swiftFunctionNamesKeepTheirOwnParentheses() {
        let line = fileLine(.notice, "x", origin: .init(pid: 1, function: "spawn(pool:)", line: 7))
        #expect(line == "[27-Nov-2026 18:27:53] NOTICE: pid 1, spawn(pool:), line 7: x\n")
    }

    /// php-fpm 8.2 with `log_limit = 512` wrote 511 bytes ending in `...`, then the newline.
    @Test func overLongLineIsCutToTheLimitIncludingTheNewline() {
        let line = fileLine(.debug, String(repeating: "q", count: 3000), limit: 512)
        #expect(line.utf8.count == 512)
        #expect(line.hasPrefix("[27-Nov-2026 18:27:53] DEBUG: qqq"))
        #expect(line.hasSuffix("qqq...\n"))
    }

    @Test func lineThatFitsExactlyIsNotCut() {
        let prefix = "[27-Nov-2026 18:27:53] NOTICE: "
        let message = String(repeating: "m", count: 100 - prefix.utf8.count - 1)
        #expect(fileLine(.notice, message, limit: 100) == prefix + message + "\n")
        #expect(fileLine(.notice, message + "m", limit: 100).hasSuffix("mmm...\n"))
        #expect(fileLine(.notice, message + "m", limit: 100).utf8.count == 100)
    }

    @Test func cutNeverSplitsAUTF8Character() {
        let prefix = "[27-Nov-2026 18:27:53] NOTICE: "
        // The cut point (limit - 1 - 3 bytes) falls inside the second "é".
        let limit = prefix.utf8.count + 4 + 1 + 3
        let line = fileLine(.notice, "aéé" + String(repeating: "z", count: 50), limit: limit)
        #expect(line == prefix + "aé...\n")
        #expect(line.utf8.count <= limit)
    }

    @Test func syslogFormHasNoTimeAndNoNewline() {
        #expect(LogLine.formatSyslog(level: .warning, message: "[pool www] seems busy") == "[WARNING] [pool www] seems busy")
        let cut = LogLine.formatSyslog(level: .error, message: String(repeating: "e", count: 2000), limit: 512)
        #expect(cut.utf8.count == 511)
        #expect(cut.hasPrefix("[ERROR] eee"))
        #expect(cut.hasSuffix("eee..."))
    }

    @Test func appendWritesTheSameBytesAfterExistingContent() {
        _ = TestTimeZone.utc
        var buffer: [UInt8] = Array("before\n".utf8)
        LogLine.append(level: .alert, message: "a", time: started, into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "before\n[27-Nov-2026 18:27:53] ALERT: a\n")
    }

    @Test func systemErrorSuffixNamesTheErrno() {
        #expect(LogLine.systemErrorSuffix(errno: EPERM) == ": Operation not permitted (1)")
        #expect(LogLine.systemErrorSuffix(errno: ENOENT) == ": No such file or directory (2)")
    }
}
