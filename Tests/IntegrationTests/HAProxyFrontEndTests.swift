import Foundation
import FastCGI
import FastCGIClient
import Testing

/// The shipped examples of one front end: `examples/<server>/*<suffix>`.
func exampleFiles(_ server: String, suffix: String) -> [String] {
    let dir = ExecPoolTests.repositoryRoot + "/examples/" + server
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
        .filter { $0.hasSuffix(suffix) }.sorted().map { dir + "/" + $0 }
}

/// README.md's fenced code blocks in `language`.
func readmeBlocks(_ language: String) -> [String] {
    let text = TestSupport.read(ExecPoolTests.repositoryRoot + "/README.md")
    return text.components(separatedBy: "```" + language + "\n").dropFirst()
        .compactMap { $0.components(separatedBy: "```").first }
}

/// One request through a front end as `expectSwiftAppServes` sends it (a form type on POSTs).
func formRequest(_ request: @escaping (String, String, [UInt8], [(String, String)]) throws -> HTTPResponse)
    -> (String, String, [UInt8]) throws -> HTTPResponse {
    { path, method, body in
        try request(path, method, body, method == "POST" ? [("Content-Type", "application/x-www-form-urlencoded")] : [])
    }
}

/// The status codes every front end must pass on from the Swift app: 404, 500 from a throwing
/// route, 201, and a response of several MB.
func expectStatusCodesAndALargeResponse(_ get: (String) throws -> HTTPResponse, logs: () -> String) throws {
    #expect(try get("/status-code?code=404").status == 404, "\(logs())")
    let thrown = try get("/throw")
    #expect(thrown.status == 500, "\(thrown.text)\n\(logs())")
    let created = try get("/status-code?code=201")
    #expect(created.status == 201)
    #expect(created.text == "status 201\n")
    let big = try get("/big?bytes=4000000")
    #expect(big.status == 200, "\(logs())")
    #expect(big.body.count == 4_000_000)
}

/// HAProxy 2.6 (`fcgi-app`, `proto fcgi`) in front of the real fpm binary: the shipped
/// example run as it is (addresses replaced), the params it sends, its GET_VALUES, its 302.
@Suite(.serialized, .enabled(if: HAProxyServer.binary != nil, "haproxy is not installed: run `make deps` (CI installs it)"))
struct HAProxyFrontEndTests {
    /// examples/haproxy/hello.cfg with the test's ports and document root, and a stats page.
    static func helloExample(_ f: FrontEndFixture, port: Int, statsPort: Int) -> String {
        TestSupport.read(ExecPoolTests.repositoryRoot + "/examples/haproxy/hello.cfg")
            .replacingOccurrences(of: "127.0.0.1:9001", with: "127.0.0.1:\(f.appPort)")
            .replacingOccurrences(of: "127.0.0.1:8082", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "/srv/swift-fpm/hello", with: f.root)
            + "\nfrontend stats\n    bind 127.0.0.1:\(statsPort)\n    stats enable\n    stats uri /stats\n"
    }

    @Test func theHelloExampleServesTheSwiftAppWithItsHealthCheckAndTheStatusItSent() throws {
        let f = try FrontEndFixture()
        let ports = distinctFreePorts(2, besides: [f.appPort, f.cgiPort, f.infoPort, f.phpPort])
        let haproxy = try HAProxyServer(configuration: HAProxyFrontEndTests.helloExample(f, port: ports[0], statsPort: ports[1]),
                                        ports: ports)
        let logs = { "haproxy:\n\(haproxy.errorLog)\nfpm:\n\(f.server.log)" }
        try expectSwiftAppServes(formRequest { try haproxy.get($0, method: $1, body: $2, headers: $3) }, logs: logs)
        try expectStatusCodesAndALargeResponse({ try haproxy.get($0) }, logs: logs)

        // The example's http-response rules put back the code HAProxy turned into 302.
        for code in [201, 301, 303, 307, 308] {
            let r = try haproxy.get("/redirect?code=\(code)&to=/items/7")
            #expect(r.status == code, "\(code): \(r.status)\n\(logs())")
            #expect(r.header("Location") == "/items/7")
        }
        #expect(try haproxy.get("/redirect?code=302").status == 302)

        // The health check (GET /ping through FastCGI) reports the server up at layer 7.
        var row = ""
        let up = TestSupport.waitUntil(timeout: 10) {
            let csv = (try? haproxy.get("/stats;csv", site: 1).text) ?? ""
            row = csv.split(separator: "\n").first { $0.hasPrefix("swift_fpm_hello,hello1,") }.map(String.init) ?? ""
            return row.contains(",UP,") && row.contains("L7OK")
        }
        #expect(up, "stats row: \(row)\n\(logs())")
    }

    /// Without the example's rules: any Location makes HAProxy answer 302, whatever the Status
    /// line said (README's quirk), the Status header still readable by `http-response` rules.
    @Test func aLocationHeaderTurnsTheStatusInto302() throws {
        let f = try FrontEndFixture()
        let haproxy = try HAProxyServer(sites: [
            """
            use-fcgi-app app
            http-response set-header X-Sent-Status "%[res.hdr(status)]"
            server s 127.0.0.1:\(f.appPort) proto fcgi
            """,
        ], sections: "fcgi-app app\n    docroot \(f.root)\n")
        let created = try haproxy.get("/redirect?code=201&to=/items/7")
        #expect(created.status == 302, "\(created.status) \(haproxy.errorLog)")
        #expect(created.header("Location") == "/items/7")
        #expect(created.header("X-Sent-Status") == "201 Created")
        #expect(created.header("Status") == nil)
        #expect(try haproxy.get("/status-code?code=201").status == 201)
    }

    @Test func theParamsItSendsWithAndWithoutPathInfo() throws {
        let f = try FrontEndFixture()
        let haproxy = try HAProxyServer(sites: [
            "use-fcgi-app plain\nserver s 127.0.0.1:\(f.infoPort) proto fcgi",
            "use-fcgi-app split\nserver s 127.0.0.1:\(f.infoPort) proto fcgi",
            "use-fcgi-app split\nserver s 127.0.0.1:\(f.cgiPort) proto fcgi",
            "use-fcgi-app plain\nserver s unix@\(f.appSocket) proto fcgi",
        ], sections: """
        fcgi-app plain
            docroot \(f.root)
            option get-values

        fcgi-app split
            docroot \(f.root)
            path-info ^(/.+\\.sh)(/.*)?$
            option get-values
        """)
        let logs = { "haproxy:\n\(haproxy.errorLog)\nfpm:\n\(f.server.log)" }
        let port = haproxy.ports[0]
        let info = try haproxy.get("/x/y?q=1", headers: [("Host", "127.0.0.1:\(port)")])
        #expect(info.status == 200, "\(logs())")
        let p = FrontEndFixture.params(info)
        print("haproxy fcgi-app GET /x/y?q=1: \(FrontEndFixture.summary(p)) SERVER_NAME=\(p["SERVER_NAME"] ?? "-")")
        #expect(p["SCRIPT_NAME"] == "/x/y")
        #expect(p["PATH_INFO"] == nil)
        #expect(p["SCRIPT_FILENAME"] == f.root + "/x/y")
        #expect(p["PATH_TRANSLATED"] == nil)
        #expect(p["REQUEST_URI"] == "/x/y?q=1")
        #expect(p["QUERY_STRING"] == "q=1")
        #expect(p["DOCUMENT_ROOT"] == f.root)
        // SERVER_NAME is the Host header as sent, port included; SERVER_PORT the port alone.
        #expect(p["SERVER_NAME"] == "127.0.0.1:\(port)")
        #expect(p["SERVER_PORT"] == String(port))
        #expect(p["SERVER_SOFTWARE"]?.hasPrefix("HAProxy") == true)

        let split = try haproxy.get("/hello.sh/more/path?q=1", site: 1)
        #expect(split.status == 200, "\(logs())")
        let s = FrontEndFixture.params(split)
        print("haproxy fcgi-app path-info GET /hello.sh/more/path?q=1: \(FrontEndFixture.summary(s))")
        #expect(s["SCRIPT_NAME"] == "/hello.sh")
        #expect(s["PATH_INFO"] == "/more/path")
        #expect(s["SCRIPT_FILENAME"] == f.root + "/hello.sh")
        #expect(s["PATH_TRANSLATED"] == f.root + "/more/path")
        #expect(s["SERVER_NAME"] == "localhost")

        try expectCGIServes(formRequest { try haproxy.get($0, site: 2, method: $1, body: $2, headers: $3) },
                            root: f.root, logs: logs)

        // The test app's own pool on its unix socket (one worker), GET_VALUES asked on connect.
        let body = FrontEndFixture.body(300_000)
        let echo = try haproxy.get("/echo", site: 3, method: "POST", body: body)
        #expect(echo.status == 200, "\(logs())")
        #expect(echo.body == body)
    }

    /// What HAProxy's `option get-values` asks on each new connection, answered truthfully:
    /// FCGI_MAX_REQS is the pool's pm.max_children, FCGI_MPXS_CONNS 0.
    @Test func getValuesAsHAProxyAsksItIsAnsweredWithThePoolSize() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 3))
        let c = try server.client()
        defer { c.close() }
        let values = try c.getValues(["FCGI_MAX_REQS", "FCGI_MPXS_CONNS"])
        #expect(values.map(\.0) == ["FCGI_MAX_REQS", "FCGI_MPXS_CONNS"])
        #expect(values.first { $0.0 == "FCGI_MAX_REQS" }?.1 == "3")
        #expect(values.first { $0.0 == "FCGI_MPXS_CONNS" }?.1 == "0")
        #expect(try c.request(params: TestSupport.params(uri: "/pid")).status == 200)
    }

    /// A client that goes away in the middle of its body: HAProxy sends ABORT_REQUEST, the
    /// worker drops the request (no answer, a log line) and serves the next one on its pool.
    @Test func aClientGoneMidBodyIsAbortedAndTheWorkerServesOn() throws {
        let f = try FrontEndFixture()
        let haproxy = try HAProxyServer(sites: ["use-fcgi-app app\nserver s unix@\(f.appSocket) proto fcgi"],
                                        sections: "fcgi-app app\n    docroot \(f.root)\n")
        let logs = { "haproxy:\n\(haproxy.errorLog)\nfpm:\n\(f.server.log)" }
        let head = "POST /swallow HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n"
        let fd = try HAProxyFrontEndTests.connectAndSend(port: haproxy.ports[0], Array(head.utf8) + FrontEndFixture.body(50_000))
        // The one worker of the unix socket's pool is reading the body.
        #expect(f.server.waitUntilActive(1), "\(logs())")
        close(fd)
        #expect(f.server.waitForLog("the web server aborted the request after"), "\(logs())")
        #expect(!f.server.log.contains("swallowed:"), "an aborted request's answer is not sent")
        let next = try haproxy.get("/pid")
        #expect(next.status == 200, "\(logs())")
        #expect(next.text.hasPrefix("pid "))
    }

    /// Connects to 127.0.0.1:`port` and sends `bytes`; the caller closes the descriptor.
    static func connectAndSend(port: Int, _ bytes: [UInt8]) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw FPMServer.ServerError("connect failed: errno \(errno)") }
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { close(fd); throw FPMServer.ServerError("send failed: errno \(errno)") }
            sent += n
        }
        return fd
    }

    @Test func theExampleConfigurationsAreValid() throws {
        let files = exampleFiles("haproxy", suffix: ".cfg")
        #expect(files.count >= 4)
        for file in files {
            let r = try runCommand(HAProxyServer.binary!, ["-c", "-f", file])
            #expect(r.status == 0, "\(file): \(r.stdout)\(r.stderr)")
            #expect(!(r.stdout + r.stderr).contains("WARNING"), "\(file): \(r.stdout)\(r.stderr)")
        }
        // README's backend and fcgi-app sections, behind a frontend and the test's defaults.
        let snippets = readmeBlocks("haproxy")
        #expect(snippets.count == 1)
        let dir = TestSupport.makeTempDirectory("fronts-haproxy-check")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for snippet in snippets {
            TestSupport.write(dir + "/readme.cfg", HAProxyServer.preamble
                + "frontend f\n    bind 127.0.0.1:\(TestSupport.freePort())\n    default_backend swift_app\n\n" + snippet)
            let r = try runCommand(HAProxyServer.binary!, ["-c", "-f", dir + "/readme.cfg"])
            #expect(r.status == 0, "README: \(r.stdout)\(r.stderr)")
            #expect(!(r.stdout + r.stderr).contains("WARNING"), "README: \(r.stdout)\(r.stderr)")
        }
    }
}
