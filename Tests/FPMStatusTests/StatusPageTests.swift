@testable import FPMStatus
import FPMSystem
import Foundation
import Glibc
import Testing

/// The pool and processes php-fpm showed in the captures; `accepted` and the status worker's
/// own line differ per capture, so they are parameters.
private func capturedPool(accepted: Int) -> PoolStatus {
    PoolStatus(pool: "www", processManager: "dynamic", startTime: 1_795_804_073, startSince: 11,
               acceptedConn: accepted, listenQueue: 0, maxListenQueue: 0, listenQueueLen: 4096,
               idleProcesses: 0, activeProcesses: 2, totalProcesses: 2, maxActiveProcesses: 2,
               maxChildrenReached: 0, slowRequests: 0)
}

private func capturedProcesses(statusRequests: Int, statusDuration: Int, statusQuery: String,
                               slowDuration: Int) -> [ProcessStatus] {
    [
        ProcessStatus(pid: 15594, state: .running, startTime: 1_795_804_073, startSince: 11,
                      requests: statusRequests, requestDuration: statusDuration, requestMethod: "GET",
                      requestURI: "/status", queryString: statusQuery),
        ProcessStatus(pid: 15595, state: .running, startTime: 1_795_804_073, startSince: 11, requests: 2,
                      requestDuration: slowDuration, requestMethod: "POST", requestURI: "/slow.php",
                      queryString: #"a=<script>"x"/&b='y"#, script: "/tmp/sfpm/www/slow.php"),
    ]
}

private func render(_ format: StatusFormat, full: Bool, accepted: Int,
                    processes: [ProcessStatus] = []) -> StatusPage.RenderedPage {
    _ = TestTimeZone.utc
    return StatusPage.render(pool: capturedPool(accepted: accepted), processes: processes, format: format,
                             full: full)
}

@Suite("Status page formats match php-fpm 8.2 byte for byte")
struct StatusPageGoldenTests {
    @Test func textMatchesPHPFPM() {
        let page = render(.text, full: false, accepted: 14, processes: capturedProcesses(
            statusRequests: 1, statusDuration: 1, statusQuery: "", slowDuration: 1))
        #expect(page.bodyText == PHPFPMGolden.text)
        #expect(page.contentType == "text/plain;charset=UTF-8")
    }

    @Test func textFullAddsOneStarredBlockPerProcess() {
        let page = render(.text, full: true, accepted: 15, processes: capturedProcesses(
            statusRequests: 13, statusDuration: 139, statusQuery: "full", slowDuration: 104_611))
        #expect(page.bodyText == PHPFPMGolden.textFull)
    }

    @Test func jsonMatchesPHPFPM() {
        let page = render(.json, full: false, accepted: 16)
        #expect(page.bodyText == PHPFPMGolden.json)
        #expect(page.contentType == "application/json")
    }

    @Test func jsonFullEscapesSlashesAndQuotesLikePHP() {
        let page = render(.json, full: true, accepted: 17, processes: capturedProcesses(
            statusRequests: 15, statusDuration: 112, statusQuery: "json&full", slowDuration: 111_647))
        #expect(page.bodyText == PHPFPMGolden.jsonFull)
    }

    @Test func xmlMatchesPHPFPM() {
        let page = render(.xml, full: false, accepted: 18)
        #expect(page.bodyText == PHPFPMGolden.xml)
        #expect(page.contentType == "text/xml;charset=UTF-8")
    }

    @Test func xmlFullEscapesMarkupInTheURI() {
        let page = render(.xml, full: true, accepted: 19, processes: capturedProcesses(
            statusRequests: 17, statusDuration: 111, statusQuery: "xml&full", slowDuration: 118_451))
        #expect(page.bodyText == PHPFPMGolden.xmlFull)
    }

    @Test func htmlMatchesPHPFPM() {
        let page = render(.html, full: false, accepted: 20)
        #expect(page.bodyText == PHPFPMGolden.html)
        #expect(page.contentType == "text/html;charset=UTF-8")
    }

    @Test func htmlFullAddsAProcessTable() {
        let page = render(.html, full: true, accepted: 21, processes: capturedProcesses(
            statusRequests: 19, statusDuration: 127, statusQuery: "html&full", slowDuration: 125_611))
        #expect(page.bodyText == PHPFPMGolden.htmlFull)
    }

    @Test func openMetricsMatchesPHPFPMByteForByte() {
        let page = render(.openmetrics, full: false, accepted: 22)
        #expect(page.bodyText == PHPFPMGolden.openmetrics)
        #expect(page.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
    }

    /// Strict: each counter becomes one `NAME_total` family without a TYPE line, the one shape
    /// that OpenMetrics parsers and promtool's Prometheus text lint read alike.
    @Test func strictOpenMetricsWritesEachCounterAsOneTotalFamily() {
        let page = render(.openmetrics, full: false, accepted: 22)
        let strict = StatusPage.render(pool: capturedPool(accepted: 22), processes: [], query: StatusQuery(queryString: "openmetrics&strict"))
        var expected = PHPFPMGolden.openmetrics
        for name in ["start_since", "accepted_connections", "max_listen_queue", "max_active_processes", "max_children_reached",
                     "slow_requests"] {
            expected = expected.replacingOccurrences(of: "# HELP phpfpm_\(name) ", with: "# HELP phpfpm_\(name)_total ")
                .replacingOccurrences(of: "# TYPE phpfpm_\(name) counter\n", with: "")
                .replacingOccurrences(of: "\nphpfpm_\(name) ", with: "\nphpfpm_\(name)_total ")
        }
        #expect(!expected.contains(" counter\n"))
        #expect(expected != page.bodyText)
        #expect(strict.bodyText == expected)
    }

    @Test func openMetricsFullAddsOneSeriesPerWorker() {
        let processes = capturedProcesses(statusRequests: 1, statusDuration: 1, statusQuery: "", slowDuration: 1_500_000)
        let plain = render(.openmetrics, full: false, accepted: 22, processes: processes).bodyText
        let full = render(.openmetrics, full: true, accepted: 22, processes: processes).bodyText
        #expect(plain == PHPFPMGolden.openmetrics)
        #expect(full.hasPrefix(String(plain.dropLast("# EOF\n".count))))
        #expect(full.contains("# TYPE phpfpm_process_state gauge\nphpfpm_process_state{pid=\"15594\",state=\"Running\"} 1\n"))
        #expect(full.contains("phpfpm_process_requests{pid=\"15595\"} 2\n"))
        #expect(full.contains("phpfpm_process_request_duration_seconds{pid=\"15595\"} 1.500000\n"))
        #expect(full.contains("phpfpm_process_last_request_memory_bytes{pid=\"15594\"} 0\n"))
        #expect(full.hasSuffix("# EOF\n"))
    }

    @Test func idleWorkerShowsItsLastRequestsCPUAndMemory() {
        _ = TestTimeZone.utc
        let idle = ProcessStatus(pid: 15595, state: .idle, startTime: 1_795_804_073, startSince: 73, requests: 7,
                                 requestDuration: 363, requestMethod: "GET", requestURI: "/ping",
                                 lastRequestCPU: 12.345, lastRequestMemory: 2_097_152)
        let page = StatusPage.render(pool: capturedPool(accepted: 30), processes: [idle], format: .json, full: true)
        #expect(page.bodyText.hasSuffix(#", "processes":[{"pid":15595,"state":"Idle","start time":1795804073,"start since":73,"requests":7,"request duration":363,"request method":"GET","request uri":"\/ping","content length":0,"user":"-","script":"-","last request cpu":12.35,"last request memory":2097152}]}"#))
    }
}

@Suite("Status page headers, ping and additions")
struct StatusPageResponseTests {
    @Test func everyPageCarriesTheNoCacheHeadersThenTheContentType() {
        for format in StatusFormat.allCases {
            let page = render(format, full: false, accepted: 1)
            #expect(page.headers == [
                .init(name: "Expires", value: "Thu, 01 Jan 1970 00:00:00 GMT"),
                .init(name: "Cache-Control", value: "no-cache, no-store, must-revalidate, max-age=0"),
                .init(name: "Content-Type", value: StatusPage.contentType(for: format)),
            ])
        }
    }

    @Test func pingBodyIsTheResponseWithoutANewline() {
        let page = PingPage.render(response: "pong")
        #expect(page.body == Array("pong".utf8))
        #expect(page.contentType == "text/plain;charset=UTF-8")
        #expect(page.headers.prefix(2) == StatusPage.cacheHeaders[...])
    }

    @Test func maxChildrenComesAfterPHPFPMsFieldsInEveryFormat() {
        _ = TestTimeZone.utc
        var pool = capturedPool(accepted: 14)
        pool.maxChildren = 5
        let processes = capturedProcesses(statusRequests: 13, statusDuration: 139, statusQuery: "full",
                                          slowDuration: 104_611)
        func body(_ format: StatusFormat) -> String {
            StatusPage.render(pool: pool, processes: processes, format: format, full: true).bodyText
        }
        #expect(body(.text).contains("slow requests:        0\nmax children:         5\n\n****"))
        #expect(body(.json).contains(#""slow requests":0,"max children":5, "processes":["#))
        #expect(body(.xml).contains("<slow-requests>0</slow-requests>\n<max-children>5</max-children>\n<processes>"))
        #expect(body(.html).contains("<tr><th>max children</th><td>5</td></tr>\n</table>\n<table border=\"1\">"))
        // (With `full`, OpenMetrics adds per-worker series after; without, max_children is last.)
        #expect(StatusPage.render(pool: pool, processes: processes, format: .openmetrics, full: false).bodyText.hasSuffix(
            "# HELP phpfpm_max_children The maximum number of child processes (pm.max_children).\n# TYPE phpfpm_max_children gauge\nphpfpm_max_children 5\n# EOF\n"))
    }

    @Test func withoutMaxChildrenNothingIsAdded() {
        for format in StatusFormat.allCases {
            #expect(!render(format, full: true, accepted: 1).bodyText.contains("max children:"))
            #expect(!render(format, full: true, accepted: 1).bodyText.contains("max_children "))
        }
    }

    @Test func everyStateHasPHPFPMsName() {
        #expect(ProcessStatus.State.allCases.map(\.rawValue) == [
            "Idle", "Reading headers", "Getting request information", "Running", "Ending", "Finishing",
        ])
    }

    @Test func poolNameIsEscapedInOpenMetricsHelp() {
        _ = TestTimeZone.utc
        let pool = PoolStatus(pool: #"a"b\c"#, processManager: "static", startTime: 0, startSince: 0)
        let text = StatusPage.render(pool: pool, processes: [], format: .openmetrics, full: false).bodyText
        #expect(text.hasPrefix(#"# HELP phpfpm_up Could pool a\"b\\c using a static PM on PHP-FPM be reached?"#))
    }

    @Test func fullWithNoProcessesKeepsTheStructure() {
        #expect(render(.json, full: true, accepted: 1).bodyText.hasSuffix(#""slow requests":0, "processes":[]}"#))
        #expect(render(.xml, full: true, accepted: 1).bodyText.hasSuffix("<processes>\n</processes>\n</status>"))
        #expect(render(.text, full: true, accepted: 1).bodyText == render(.text, full: false, accepted: 1).bodyText)
    }
}

@Suite("Status page escaping")
struct StatusPageEscapingTests {
    /// What php-fpm 8.2 printed for `P<S"T /a<b "c&d.php?x=<tab>\é<U+0001>` by `us<e>r/"x`.
    private let hostile = ProcessStatus(
        pid: 15594, state: .running, startTime: 1_795_804_073, startSince: 24, requests: 22,
        requestDuration: 96_442, requestMethod: #"P<S"T"#, requestURI: #"/a<b "c&d.php"#,
        queryString: "x=\t\\é\u{01}", user: #"us<e>r/"x"#, script: #"/tmp/sfpm/www/a<b "c&d.php"#)

    private func page(_ format: StatusFormat, _ process: ProcessStatus) -> String {
        _ = TestTimeZone.utc
        return StatusPage.render(pool: capturedPool(accepted: 26), processes: [process], format: format,
                                 full: true).bodyText
    }

    @Test func jsonEscapesLikePHPJSONEncode() {
        #expect(page(.json, hostile).contains(#""request method":"P<S\"T","request uri":"\/a<b \"c&d.php?x=\t\\\u00e9\u0001","content length":0,"user":"us<e>r\/\"x","script":"\/tmp\/sfpm\/www\/a<b \"c&d.php","#))
    }

    @Test func xmlEscapesMarkupButNotApostrophes() {
        #expect(page(.xml, hostile).contains(#"<request-method>P&lt;S&quot;T</request-method><request-uri>/a&lt;b &quot;c&amp;d.php?x=\#t\é�</request-uri><content-length>0</content-length><user>us&lt;e&gt;r/&quot;x</user><script>/tmp/sfpm/www/a&lt;b &quot;c&amp;d.php</script>"#))
        var apostrophe = hostile
        apostrophe.queryString = "b='y"
        #expect(page(.xml, apostrophe).contains("<request-uri>/a&lt;b &quot;c&amp;d.php?b='y</request-uri>"))
    }

    @Test func htmlEscapesEveryStringCell() {
        #expect(page(.html, hostile).contains(#"<td>P&lt;S&quot;T</td><td>/a&lt;b &quot;c&amp;d.php?x=\#t\é�</td><td>0</td><td>us&lt;e&gt;r/&quot;x</td><td>/tmp/sfpm/www/a&lt;b &quot;c&amp;d.php</td>"#))
    }

    @Test func textShowsStringsRaw() {
        #expect(page(.text, hostile).contains("request URI:          /a<b \"c&d.php?x=\t\\é\u{01}\n"))
    }

    /// php-fpm 8.2 for `/slow.php?e=😀<DEL><US><SOH><BS><FF><LF><CR>>`.
    @Test func controlAndAstralCharactersAreEscapedLikePHP() {
        var process = hostile
        process.requestURI = "/slow.php"
        process.queryString = "e=😀\u{7F}\u{1F}\u{01}\u{08}\u{0C}\n\r>"
        #expect(page(.json, process).contains(#""request uri":"\/slow.php?e=\ud83d\ude00"# + "\u{7F}" + #"\u001f\u0001\b\f\n\r>""#))
        #expect(page(.xml, process).contains("<request-uri>/slow.php?e=😀\u{7F}\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}\n\r&gt;</request-uri>"))
    }

    @Test func scriptTagInTheURICannotBreakOutOfTheMarkup() {
        var process = hostile
        process.requestURI = "/x"
        process.queryString = "<script>alert(\"/\")</script>"
        #expect(page(.html, process).contains("<td>/x?&lt;script&gt;alert(&quot;/&quot;)&lt;/script&gt;</td>"))
        #expect(page(.json, process).contains(#""request uri":"\/x?<script>alert(\"\/\")<\/script>""#))
        #expect(!page(.xml, process).contains("<script>alert"))
    }
}

/// Every case was checked against php-fpm 8.2.
@Suite("Status query precedence")
struct StatusPageQueryTests {
    @Test(arguments: [
        ("", StatusFormat.text, false),
        ("full", .text, true),
        ("json", .json, false),
        ("json&full", .json, true),
        ("full&json", .json, true),
        ("json&xml", .xml, false),
        ("html&xml", .html, false),
        ("xml&html&json&openmetrics", .html, false),
        ("openmetrics&json", .json, false),
        ("openmetrics", .openmetrics, false),
        ("json=0", .json, false),
        ("json=&full=no", .json, true),
        ("JSON", .text, false),
        ("jsonx", .text, false),
        ("x=json", .text, false),
        ("%6Ason", .json, false),
        ("+json", .json, false),
        ("json[]=1", .json, false),
        ("json[", .text, false),
        ("&&xml&&", .xml, false),
        ("a=1&b=2&full&html=", .html, true),
        ("json;xml", .text, false),
        ("full[x]", .text, true),
    ])
    func formatAndFullFollowPHPFPMsPrecedence(query: String, format: StatusFormat, full: Bool) {
        let parsed = StatusQuery(queryString: query)
        #expect(parsed.format == format)
        #expect(parsed.full == full)
        #expect(StatusFormat(queryString: query) == format)
    }

    @Test func renderingByQueryEqualsRenderingByFormat() {
        _ = TestTimeZone.utc
        let pool = capturedPool(accepted: 1)
        #expect(StatusPage.render(pool: pool, processes: [], query: StatusQuery(queryString: "xml&full"))
            == StatusPage.render(pool: pool, processes: [], format: .xml, full: true))
    }
}
