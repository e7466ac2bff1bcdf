@testable import FPMServer
import FPMSystem
import Foundation
import Glibc
import Testing

/// The request php-fpm 8.2 logged as `POST /work.php?q=1&r` (201, 5-byte body, `X-Foo: bar baz`),
/// with the values it reported.
private func workRecord() -> AccessLogRecord {
    AccessLogRecord(
        remoteAddr: "127.0.0.1", method: "POST", requestURI: "/work.php", queryString: "q=1&r",
        scriptFilename: "/tmp/sfpm/www/work.php", contentLength: 5, status: 201,
        startSeconds: 1_795_804_182, startMicroseconds: 100_000, endSeconds: 1_795_804_182,
        endMicroseconds: 160_000, durationMicroseconds: 55_682, cpuUserSeconds: 0.04, cpuSystemSeconds: 0,
        memoryBytes: 7_098_368, pool: "www", pid: 16682, ppid: 16679,
        parameter: { $0 == "HTTP_HOST" ? "example.test" : nil },
        responseHeader: AccessLogRecord.headerLookup([("X-Foo", "bar baz"), ("X-Foo-Long", "long")]))
}

private func line(_ format: String, _ record: AccessLogRecord = workRecord()) throws -> String {
    _ = TestTimeZone.utc
    let compiled = try AccessLogFormat(parsing: format)
    var buffer: [UInt8] = []
    compiled.render(record, into: &buffer)
    return String(decoding: buffer, as: UTF8.self)
}

@Suite("Access log lines match php-fpm 8.2")
struct AccessLogGoldenTests {
    /// Every token and modifier in one format, and the line php-fpm 8.2 wrote for it. One
    /// deliberate difference: `%{x-foo}o` finds `X-Foo` here (header names ignore case).
    static let everyToken = """
        A[%C][%{user}C][%{system}C][%{total}C][%{}C][%d][%{seconds}d][%{milli}d][%{micro}d][%{mili}d]\
        [%{miliseconds}d][%{microseconds}d][%{}d][%M][%{kilo}M][%{mega}M][%{bytes}M][%{kilobytes}M]\
        [%{megabytes}M][%{}M][%l][%m][%n][%p][%P][%q][%Q][%r][%R][%s][%t][%T][%{}t][%u][%f]\
        [%{%Y-%m-%d %H:%M:%S %s}t][%{HTTP_HOST}e][%{NOPE}e][%{X-Foo}o][%{X-Fo}o][%{x-foo}o][%{Nope}o]\
        [%%{x}][%{a{b}e][%{%%}T] %
        """

    @Test func everyTokenAndModifierRendersAsInPHPFPM() throws {
        let php = """
            A[71.84][71.84][0.00][71.84][71.84][0.056][0.056][55.682][55682][55.682][55.682][55682][0.056]\
            [7098368][6932][6][7098368][6932][6][7098368][5][POST][www][16682][16679][q=1&r][?][/work.php]\
            [127.0.0.1][201][27/Nov/2026:18:29:42 +0000][27/Nov/2026:18:29:42 +0000][27/Nov/2026:18:29:42 +0000]\
            [][/tmp/sfpm/www/work.php][2026-11-27 18:29:42 1795804182][example.test][-][bar baz][-][-][-][%{x}][-][%] \n
            """
        let ours = php.replacingOccurrences(of: "[bar baz][-][-][-]", with: "[bar baz][-][bar baz][-]")
        #expect(try line(Self.everyToken) == ours)
    }

    @Test func secondRequestWithSystemTimeAndNoQuery() throws {
        var record = workRecord()
        record.method = "GET"
        record.queryString = ""
        record.contentLength = 0
        record.durationMicroseconds = 54_306
        record.cpuUserSeconds = 0.05
        record.cpuSystemSeconds = 0.01
        record.parameter = { _ in nil }
        let php = """
            A[110.49][92.07][18.41][110.49][110.49][0.054][0.054][54.306][54306][54.306][54.306][54306][0.054]\
            [7098368][6932][6][7098368][6932][6][7098368][0][GET][www][16682][16679][][][/work.php]\
            [127.0.0.1][201][27/Nov/2026:18:29:42 +0000][27/Nov/2026:18:29:42 +0000][27/Nov/2026:18:29:42 +0000]\
            [][/tmp/sfpm/www/work.php][2026-11-27 18:29:42 1795804182][-][-][bar baz][-][bar baz][-][%{x}][-][%] \n
            """
        #expect(try line(Self.everyToken, record) == php)
    }

    /// The reference's real line (PHP-FPM-REFERENCE.md §6.1).
    @Test func referenceLineRendersExactly() throws {
        let format = #"%R - %u %t "%m %r%Q%q" %s %f %{milli}d %{kilo}M %C%% pid=%p ppid=%P pool=%n ct=%{Content-Type}o host=%{HTTP_HOST}e T=%T"#
        let record = AccessLogRecord(
            remoteAddr: "127.0.0.1", method: "GET", requestURI: "/slow.php", queryString: "s=2",
            scriptFilename: "/srv/www/slow.php", status: 200, startSeconds: 1_795_799_067, endSeconds: 1_795_799_069,
            durationMicroseconds: 2_000_554, memoryBytes: 2_097_152, pool: "www", pid: 16792, ppid: 16789,
            parameter: { $0 == "HTTP_HOST" ? "example.test" : nil })
        #expect(try line(format, record) == #"127.0.0.1 -  27/Nov/2026:17:04:27 +0000 "GET /slow.php?s=2" 200 /srv/www/slow.php 2000.554 2048 0.00% pid=16792 ppid=16789 pool=www ct=- host=example.test T=27/Nov/2026:17:04:29 +0000"# + "\n")
    }

    @Test func defaultFormatIsPHPFPMs() throws {
        #expect(AccessLogFormat.defaultFormat == #"%R - %u %t "%m %r" %s"#)
        #expect(try line(AccessLogFormat.defaultFormat) == #"127.0.0.1 -  27/Nov/2026:18:29:42 +0000 "POST /work.php" 201"# + "\n")
    }
}

@Suite("Access log tokens one by one")
struct AccessLogTokenTests {
    @Test(arguments: [
        ("%%", "%"),
        ("100%%", "100%"),
        ("%C", "71.84"), ("%{user}C", "71.84"), ("%{system}C", "0.00"), ("%{total}C", "71.84"),
        ("%{TOTAL}C", "71.84"), ("%{}C", "71.84"),
        ("%d", "0.056"), ("%{seconds}d", "0.056"), ("%{milli}d", "55.682"), ("%{milliseconds}d", "55.682"),
        ("%{mili}d", "55.682"), ("%{miliseconds}d", "55.682"), ("%{micro}d", "55682"),
        ("%{microseconds}d", "55682"), ("%{Milli}d", "55.682"),
        ("%{HTTP_HOST}e", "example.test"), ("%{http_host}e", "-"), ("%{a{b}e", "-"),
        ("%f", "/tmp/sfpm/www/work.php"),
        ("%l", "5"),
        ("%m", "POST"),
        ("%M", "7098368"), ("%{bytes}M", "7098368"), ("%{kilo}M", "6932"), ("%{kilobytes}M", "6932"),
        ("%{mega}M", "6"), ("%{megabytes}M", "6"), ("%{KILO}M", "6932"),
        ("%n", "www"),
        ("%{X-Foo}o", "bar baz"), ("%{x-foo}o", "bar baz"), ("%{X-Fo}o", "-"), ("%{X-Foo-Long}o", "long"),
        ("%p", "16682"), ("%P", "16679"),
        ("%q", "q=1&r"), ("%Q", "?"),
        ("%r", "/work.php"),
        ("%R", "127.0.0.1"),
        ("%s", "201"),
        ("%t", "27/Nov/2026:18:29:42 +0000"), ("%{}t", "27/Nov/2026:18:29:42 +0000"),
        ("%{%s}t", "1795804182"), ("%{%H:%M}T", "18:29"), ("%{%%}t", "%"),
        ("%u", ""),
        ("%{}f", "/tmp/sfpm/www/work.php"), ("%{}%", "%"),
        ("%%{x}", "%{x}"),
        ("trailing %", "trailing "),
        ("", ""),
    ])
    func tokenRendersLikePHPFPM(format: String, expected: String) throws {
        #expect(try line(format) == expected + "\n")
    }

    @Test func endTimeIsTheRecordsEndNotItsStart() throws {
        var record = workRecord()
        record.endSeconds = record.startSeconds + 61
        #expect(try line("%t|%T", record) == "27/Nov/2026:18:29:42 +0000|27/Nov/2026:18:30:43 +0000\n")
    }

    @Test func missingValuesRenderAsPHPFPMDoes() throws {
        let empty = AccessLogRecord()
        #expect(try line("[%R][%u][%m][%r][%q][%Q][%f][%n][%{X}e][%{X}o][%s][%l][%C][%d][%M]", empty)
            == "[-][][-][][][][-][][-][-][0][0][0.00][0.000][0]\n")
    }

    @Test func presentButEmptyParameterRendersEmpty() throws {
        var record = workRecord()
        record.parameter = { _ in "" }
        #expect(try line("[%{HTTP_HOST}e]", record) == "[]\n")
    }

    @Test func durationRoundsExactlyLikePrintf() throws {
        // Values whose decimal expansion sits on a rounding tie: printf rounds the binary value.
        var record = workRecord()
        for (micros, seconds, millis) in [(500, "0.001", "0.500"), (1500, "0.002", "1.500"), (2500, "0.003", "2.500"),
                                          (1_000_500, "1.000", "1000.500"), (2_000_554, "2.001", "2000.554")] {
            record.durationMicroseconds = micros
            #expect(try line("%d %{milli}d", record) == "\(seconds) \(millis)\n")
        }
    }

    @Test func fixedPointMatchesPrintfOverManyValues() throws {
        let format = try AccessLogFormat(parsing: "%d|%{milli}d|%C")
        var record = workRecord()
        var buffer: [UInt8] = []
        var generator = SystemRandomNumberGenerator()
        let samples = Array(0..<3000) + (0..<3000).map { _ in Int.random(in: 0..<100_000_000_000, using: &generator) }
        for micros in samples {
            record.durationMicroseconds = micros
            record.cpuUserSeconds = Double(micros % 997) / 100
            buffer.removeAll(keepingCapacity: true)
            format.render(record, into: &buffer)
            let seconds = Double(micros) / 1_000_000
            let cpu = seconds > 0 ? record.cpuUserSeconds / seconds * 100 : 0
            let expected = String(format: "%.3f|%.3f|%.2f\n", seconds, Double(micros) / 1_000, cpu)
            #expect(String(decoding: buffer, as: UTF8.self) == expected, "µs \(micros)")
        }
    }
}

@Suite("Access log format errors use php-fpm's messages")
struct AccessLogFormatErrorTests {
    /// Each message was produced by `php-fpm8.2 -t` for the same format.
    @Test(arguments: [
        ("%Z", "Invalid token in the access.format (%Z)"),
        ("abc %y def", "Invalid token in the access.format (%y)"),
        ("%{x}Z", "Invalid token in the access.format (%Z)"),
        ("%{a}b", "Invalid token in the access.format (%b)"),
        ("%{user}c", "Invalid token in the access.format (%c)"),
        ("%{a}}e", "Invalid token in the access.format (%})"),
        ("%{}}", "Invalid token in the access.format (%})"),
        ("%{x}%", "embrace is not allowed for modifier %%"),
        ("%{x}%%", "embrace is not allowed for modifier %%"),
        ("%{x}f", "embrace is not allowed for modifier %f"),
        ("%{x}q", "embrace is not allowed for modifier %q"),
        ("%{x}u", "embrace is not allowed for modifier %u"),
        ("%{xyz", "missing closing embrace in the access.format"),
        ("%e", "the name of the environment variable must be set between embraces for %e"),
        ("%{}e", "the name of the environment variable must be set between embraces for %e"),
        ("%o", "the name of the header must be set between embraces for %o"),
        ("%{}o", "the name of the header must be set between embraces for %o"),
        ("%{foo}C", "only 'total', 'user' or 'system' are allowed as a modifier for %C ('foo')"),
        ("%{ total}C", "only 'total', 'user' or 'system' are allowed as a modifier for %C (' total')"),
        ("%{foo}d",
         "only 'seconds', 'milli', 'milliseconds', 'micro' or 'microseconds' are allowed as a modifier for %d ('foo')"),
        ("%{foo}M", "only 'bytes', 'kilo', 'kilobytes', 'mega' or 'megabytes' are allowed as a modifier for %M ('foo')"),
    ])
    func refusedWithPHPFPMsMessage(format: String, message: String) {
        #expect(AccessLogFormat.validate(format) == message)
        #expect(throws: AccessLogFormatError.self) { try AccessLogFormat(parsing: format) }
    }

    /// php-fpm says "missing closing embrace" here too; the brace is closed, the token is missing.
    @Test(arguments: ["%{x}", "%{}", "a %{x}"])
    func bracesWithoutATokenAtTheEndAreRefused(format: String) {
        let closing = format.range(of: "%{").map { String(format[$0.lowerBound...]) } ?? format
        #expect(AccessLogFormat.validate(format)
            == "missing token after the closing embrace in the access.format ('\(closing)')")
    }

    @Test func invalidNonASCIITokenIsNamedWhole() {
        #expect(AccessLogFormat.validate("%é") == "Invalid token in the access.format (%é)")
    }

    @Test(arguments: ["%", "abc%", "%{}t", "%{}T", "%{}C", "%{}d", "%{}M", "%{}f", "%{}%", "%{a{b}e", "%%{x}", "",
                      "%{USER}C", "%{Milli}d", "%{KILO}M", AccessLogFormat.defaultFormat])
    func acceptedLikePHPFPM(format: String) {
        #expect(AccessLogFormat.validate(format) == nil)
    }

    @Test func thrownErrorCarriesTheCase() {
        #expect(throws: AccessLogFormatError.invalidModifier(token: "C", modifier: "foo")) {
            try AccessLogFormat(parsing: "%{foo}C")
        }
        #expect(throws: AccessLogFormatError.missingClosingEmbrace) { try AccessLogFormat(parsing: "%{x") }
    }
}

@Suite("Access log line limit")
struct AccessLogLineLimitTests {
    @Test func noLimitByDefault() throws {
        let format = try AccessLogFormat(parsing: "%{X}e")
        #expect(format.lineLimit == nil)
        let long = String(repeating: "x", count: 5000)
        var buffer: [UInt8] = []
        let cut = format.render(AccessLogRecord(parameter: { _ in long }), into: &buffer)
        #expect(!cut)
        #expect(buffer.count == 5001)
    }

    @Test func limitCutsTheLineAndSaysSo() throws {
        let format = try AccessLogFormat(parsing: "%{X}e", lineLimit: 10)
        var buffer: [UInt8] = Array("previous\n".utf8)
        let cut = format.render(AccessLogRecord(parameter: { _ in "0123456789abcdef" }), into: &buffer)
        #expect(cut)
        #expect(String(decoding: buffer, as: UTF8.self) == "previous\n0123456789\n")
    }

    @Test func lineOfExactlyTheLimitIsKept() throws {
        let format = try AccessLogFormat(parsing: "%{X}e", lineLimit: 10)
        var buffer: [UInt8] = []
        #expect(!format.render(AccessLogRecord(parameter: { _ in "0123456789" }), into: &buffer))
        #expect(buffer.count == 11)
    }

    @Test func cutNeverSplitsAUTF8Character() throws {
        let format = try AccessLogFormat(parsing: "%{X}e", lineLimit: 4)
        var buffer: [UInt8] = []
        format.render(AccessLogRecord(parameter: { _ in "abcé" }), into: &buffer)  // é is 2 bytes: 5 in all
        #expect(String(decoding: buffer, as: UTF8.self) == "abc\n")
    }

    @Test func compiledFormatRemembersItsSource() throws {
        #expect(try AccessLogFormat(parsing: "%R %s").source == "%R %s")
    }
}
