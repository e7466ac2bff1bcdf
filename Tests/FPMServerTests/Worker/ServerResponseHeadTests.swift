@testable import FPMServer
import Testing

/// The CGI head as the worker composes it in place: status line (none for a plain 200, as
/// php-cgi), headers in the order set, the default Content-Type only when none was set
/// (whatever its case), then the blank line.
@Suite struct ServerResponseHeadTests {
    func head(_ configure: (ServerResponse) throws -> Void) throws -> String {
        let sink = BufferResponseSink()
        let response = ServerResponse(sink: sink)
        try configure(response)
        try response.finish()
        return String(decoding: sink.output, as: UTF8.self)
    }

    @Test func statusHeadersAndTheDefaultType() throws {
        #expect(try head { _ in } == "Content-Type: text/html; charset=UTF-8\r\n\r\n")
        let text = try head {
            $0.status = 404
            try $0.setHeader("X-A", "1")
            try $0.addHeader("Set-Cookie", "a=1")
            try $0.addHeader("Set-Cookie", "b=2")
        }
        #expect(text == "Status: 404 Not Found\r\nX-A: 1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n")
    }

    @Test func aContentTypeInAnyCaseReplacesTheDefault() throws {
        #expect(try head { try $0.setHeader("content-TYPE", "text/plain") } == "content-TYPE: text/plain\r\n\r\n")
        // setHeader replaces case-insensitively, keeping the last spelling.
        #expect(try head { try $0.setHeader("Content-Type", "a/b"); try $0.setHeader("CONTENT-type", "c/d") }
                == "CONTENT-type: c/d\r\n\r\n")
    }

    @Test(arguments: [(100, "100 Continue"), (299, "299 Status"), (599, "599 Status"), (999, "999 Status"), (42, "42 Status"), (1000, "1000 Status")])
    func everyStatusCodeIsWrittenInDecimal(code: Int, line: String) throws {
        #expect(try head { $0.status = code }.hasPrefix("Status: \(line)\r\n"))
    }

    @Test func a200CarriesNoStatusLineUnlessItNeedsOne() throws {
        #expect(try head { $0.status = 200; try $0.setHeader("X-A", "1") } == "X-A: 1\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n")
        // Without Status, a web server reads a Location head as a 302: a 200 with one keeps it.
        #expect(try head { try $0.setHeader("Location", "/x") }.hasPrefix("Status: 200 OK\r\nLocation: /x\r\n"))
        // A CGI script's own `Status: 200` passes through.
        #expect(try head { $0.sendsStatusLineFor200 = true }.hasPrefix("Status: 200 OK\r\n"))
        #expect(try head { $0.status = 201 }.hasPrefix("Status: 201 Created\r\n"))
    }

    @Test func caseInsensitiveEqualsComparesBytes() {
        #expect("Content-Type".caseInsensitiveEquals("content-type"))
        #expect("X-Ü".caseInsensitiveEquals("x-Ü"))
        #expect(!"Content-Type".caseInsensitiveEquals("Content-Typf"))
        #expect(!"a".caseInsensitiveEquals("ab"))
        #expect(!"[".caseInsensitiveEquals("{"), "only A-Z fold")
        #expect("".caseInsensitiveEquals(""))
    }
}
