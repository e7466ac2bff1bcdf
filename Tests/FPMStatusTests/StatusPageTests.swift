@testable import FPMStatus
import FPMSystem
import Foundation
import Glibc
import Testing

/// Status pages captured from php-fpm 8.2 (`cgi-fcgi` against a real pool, headers removed),
/// while a second worker ran `POST /slow.php?a=<script>"x"/&b='y`.
enum PHPFPMGolden {
    static let text = #"""
pool:                 www
process manager:      dynamic
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
accepted conn:        14
listen queue:         0
max listen queue:     0
listen queue len:     4096
idle processes:       0
active processes:     2
total processes:      2
max active processes: 2
max children reached: 0
slow requests:        0

"""#

    static let textFull = #"""
pool:                 www
process manager:      dynamic
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
accepted conn:        15
listen queue:         0
max listen queue:     0
listen queue len:     4096
idle processes:       0
active processes:     2
total processes:      2
max active processes: 2
max children reached: 0
slow requests:        0

************************
pid:                  15594
state:                Running
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
requests:             13
request duration:     139
request method:       GET
request URI:          /status?full
content length:       0
user:                 -
script:               -
last request cpu:     0.00
last request memory:  0

************************
pid:                  15595
state:                Running
start time:           27/Nov/2026:18:27:53 +0000
start since:          11
requests:             2
request duration:     104611
request method:       POST
request URI:          /slow.php?a=<script>"x"/&b='y
content length:       0
user:                 -
script:               /tmp/sfpm/www/slow.php
last request cpu:     0.00
last request memory:  0

"""#

    static let json = #"""
{"pool":"www","process manager":"dynamic","start time":1795804073,"start since":11,"accepted conn":16,"listen queue":0,"max listen queue":0,"listen queue len":4096,"idle processes":0,"active processes":2,"total processes":2,"max active processes":2,"max children reached":0,"slow requests":0}
"""#

    static let jsonFull = #"""
{"pool":"www","process manager":"dynamic","start time":1795804073,"start since":11,"accepted conn":17,"listen queue":0,"max listen queue":0,"listen queue len":4096,"idle processes":0,"active processes":2,"total processes":2,"max active processes":2,"max children reached":0,"slow requests":0, "processes":[{"pid":15594,"state":"Running","start time":1795804073,"start since":11,"requests":15,"request duration":112,"request method":"GET","request uri":"\/status?json&full","content length":0,"user":"-","script":"-","last request cpu":0.00,"last request memory":0},{"pid":15595,"state":"Running","start time":1795804073,"start since":11,"requests":2,"request duration":111647,"request method":"POST","request uri":"\/slow.php?a=<script>\"x\"\/&b='y","content length":0,"user":"-","script":"\/tmp\/sfpm\/www\/slow.php","last request cpu":0.00,"last request memory":0}]}
"""#

    static let xml = #"""
<?xml version="1.0" ?>
<status>
<pool>www</pool>
<process-manager>dynamic</process-manager>
<start-time>1795804073</start-time>
<start-since>11</start-since>
<accepted-conn>18</accepted-conn>
<listen-queue>0</listen-queue>
<max-listen-queue>0</max-listen-queue>
<listen-queue-len>4096</listen-queue-len>
<idle-processes>0</idle-processes>
<active-processes>2</active-processes>
<total-processes>2</total-processes>
<max-active-processes>2</max-active-processes>
<max-children-reached>0</max-children-reached>
<slow-requests>0</slow-requests>
</status>
"""#

    static let xmlFull = #"""
<?xml version="1.0" ?>
<status>
<pool>www</pool>
<process-manager>dynamic</process-manager>
<start-time>1795804073</start-time>
<start-since>11</start-since>
<accepted-conn>19</accepted-conn>
<listen-queue>0</listen-queue>
<max-listen-queue>0</max-listen-queue>
<listen-queue-len>4096</listen-queue-len>
<idle-processes>0</idle-processes>
<active-processes>2</active-processes>
<total-processes>2</total-processes>
<max-active-processes>2</max-active-processes>
<max-children-reached>0</max-children-reached>
<slow-requests>0</slow-requests>
<processes>
<process><pid>15594</pid><state>Running</state><start-time>1795804073</start-time><start-since>11</start-since><requests>17</requests><request-duration>111</request-duration><request-method>GET</request-method><request-uri>/status?xml&amp;full</request-uri><content-length>0</content-length><user>-</user><script>-</script><last-request-cpu>0.00</last-request-cpu><last-request-memory>0</last-request-memory></process>
<process><pid>15595</pid><state>Running</state><start-time>1795804073</start-time><start-since>11</start-since><requests>2</requests><request-duration>118451</request-duration><request-method>POST</request-method><request-uri>/slow.php?a=&lt;script&gt;&quot;x&quot;/&amp;b='y</request-uri><content-length>0</content-length><user>-</user><script>/tmp/sfpm/www/slow.php</script><last-request-cpu>0.00</last-request-cpu><last-request-memory>0</last-request-memory></process>
</processes>
</status>
"""#

    static let html = #"""
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><title>PHP-FPM Status Page</title></head>
<body>
<table>
<tr><th>pool</th><td>www</td></tr>
<tr><th>process manager</th><td>dynamic</td></tr>
<tr><th>start time</th><td>27/Nov/2026:18:27:53 +0000</td></tr>
<tr><th>start since</th><td>11</td></tr>
<tr><th>accepted conn</th><td>20</td></tr>
<tr><th>listen queue</th><td>0</td></tr>
<tr><th>max listen queue</th><td>0</td></tr>
<tr><th>listen queue len</th><td>4096</td></tr>
<tr><th>idle processes</th><td>0</td></tr>
<tr><th>active processes</th><td>2</td></tr>
<tr><th>total processes</th><td>2</td></tr>
<tr><th>max active processes</th><td>2</td></tr>
<tr><th>max children reached</th><td>0</td></tr>
<tr><th>slow requests</th><td>0</td></tr>
</table>
</body></html>
"""#

    static let htmlFull = #"""
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><title>PHP-FPM Status Page</title></head>
<body>
<table>
<tr><th>pool</th><td>www</td></tr>
<tr><th>process manager</th><td>dynamic</td></tr>
<tr><th>start time</th><td>27/Nov/2026:18:27:53 +0000</td></tr>
<tr><th>start since</th><td>11</td></tr>
<tr><th>accepted conn</th><td>21</td></tr>
<tr><th>listen queue</th><td>0</td></tr>
<tr><th>max listen queue</th><td>0</td></tr>
<tr><th>listen queue len</th><td>4096</td></tr>
<tr><th>idle processes</th><td>0</td></tr>
<tr><th>active processes</th><td>2</td></tr>
<tr><th>total processes</th><td>2</td></tr>
<tr><th>max active processes</th><td>2</td></tr>
<tr><th>max children reached</th><td>0</td></tr>
<tr><th>slow requests</th><td>0</td></tr>
</table>
<table border="1">
<tr><th>pid</th><th>state</th><th>start time</th><th>start since</th><th>requests</th><th>request duration</th><th>request method</th><th>request uri</th><th>content length</th><th>user</th><th>script</th><th>last request cpu</th><th>last request memory</th></tr>
<tr><td>15594</td><td>Running</td><td>27/Nov/2026:18:27:53 +0000</td><td>11</td><td>19</td><td>127</td><td>GET</td><td>/status?html&amp;full</td><td>0</td><td>-</td><td>-</td><td>0.00</td><td>0</td></tr>
<tr><td>15595</td><td>Running</td><td>27/Nov/2026:18:27:53 +0000</td><td>11</td><td>2</td><td>125611</td><td>POST</td><td>/slow.php?a=&lt;script&gt;&quot;x&quot;/&amp;b='y</td><td>0</td><td>-</td><td>/tmp/sfpm/www/slow.php</td><td>0.00</td><td>0</td></tr>
</table></body></html>
"""#

    static let openmetrics = #"""
# HELP phpfpm_up Could pool www using a dynamic PM on PHP-FPM be reached?
# TYPE phpfpm_up gauge
phpfpm_up 1
# HELP phpfpm_start_since The number of seconds since FPM has started.
# TYPE phpfpm_start_since counter
phpfpm_start_since 11
# HELP phpfpm_accepted_connections The number of requests accepted by the pool.
# TYPE phpfpm_accepted_connections counter
phpfpm_accepted_connections 22
# HELP phpfpm_listen_queue The number of requests in the queue of pending connections.
# TYPE phpfpm_listen_queue gauge
phpfpm_listen_queue 0
# HELP phpfpm_max_listen_queue The maximum number of requests in the queue of pending connections since FPM has started.
# TYPE phpfpm_max_listen_queue counter
phpfpm_max_listen_queue 0
# TYPE phpfpm_listen_queue_length gauge
# HELP phpfpm_listen_queue_length The size of the socket queue of pending connections.
phpfpm_listen_queue_length 4096
# HELP phpfpm_idle_processes The number of idle processes.
# TYPE phpfpm_idle_processes gauge
phpfpm_idle_processes 0
# HELP phpfpm_active_processes The number of active processes.
# TYPE phpfpm_active_processes gauge
phpfpm_active_processes 2
# HELP phpfpm_total_processes The number of idle + active processes.
# TYPE phpfpm_total_processes gauge
phpfpm_total_processes 2
# HELP phpfpm_max_active_processes The maximum number of active processes since FPM has started.
# TYPE phpfpm_max_active_processes counter
phpfpm_max_active_processes 2
# HELP phpfpm_max_children_reached The number of times, the process limit has been reached, when pm tries to start more children (works only for pm 'dynamic' and 'ondemand').
# TYPE phpfpm_max_children_reached counter
phpfpm_max_children_reached 0
# HELP phpfpm_slow_requests The number of requests that exceeded your 'request_slowlog_timeout' value.
# TYPE phpfpm_slow_requests counter
phpfpm_slow_requests 0
# EOF

"""#
}

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
