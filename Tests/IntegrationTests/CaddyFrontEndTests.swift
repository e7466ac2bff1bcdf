import Foundation
import Testing

/// Caddy 2.6 (`reverse_proxy` + `transport fastcgi`, `php_fastcgi`) in front of the real fpm
/// binary: the shipped example run as it is (addresses replaced), the params it sends, the
/// `Status:` header it passes on.
@Suite(.serialized, .enabled(if: CaddyServer.binary != nil, "caddy is not installed: run `make deps` (CI installs it)"))
struct CaddyFrontEndTests {
    /// The body of examples/caddy/hello.Caddyfile's site with the test's addresses.
    static func helloExampleSite(_ f: FrontEndFixture) throws -> String {
        let text = TestSupport.read(ExecPoolTests.repositoryRoot + "/examples/caddy/hello.Caddyfile")
        guard let open = text.range(of: "http://127.0.0.1:8085 {\n"), let close = text.range(of: "\n}", options: .backwards) else {
            throw FPMServer.ServerError("examples/caddy/hello.Caddyfile has no http://127.0.0.1:8085 site")
        }
        return String(text[open.upperBound..<close.lowerBound])
            .replacingOccurrences(of: "\tbind 127.0.0.1\n", with: "")
            .replacingOccurrences(of: "127.0.0.1:9001", with: "127.0.0.1:\(f.appPort)")
            .replacingOccurrences(of: "/srv/swift-fpm/hello", with: f.root)
    }

    @Test func theHelloExampleServesTheSwiftAppWithSCRIPTNAMEEmpty() throws {
        let f = try FrontEndFixture()
        let caddy = try CaddyServer(sites: [
            try CaddyFrontEndTests.helloExampleSite(f),
            // The same without `header_down -Status`.
            "reverse_proxy 127.0.0.1:\(f.appPort) {\n\ttransport fastcgi\n}",
            "reverse_proxy unix/\(f.appSocket) {\n\ttransport fastcgi\n\theader_down -Status\n}",
        ])
        let logs = { "caddy:\n\(caddy.errorLog)\nfpm:\n\(f.server.log)" }
        // SCRIPT_NAME is empty, the path is PATH_INFO: the app's routes, its status and ping
        // pages answer all the same (RequestPath, the status path matched on PATH_INFO).
        try expectSwiftAppServes(formRequest { try caddy.request($0, method: $1, body: $2, headers: $3) }, logs: logs)
        try expectStatusCodesAndALargeResponse({ try caddy.request($0) }, logs: logs)
        let created = try caddy.request("/redirect?code=201&to=/items/7")
        #expect(created.status == 201, "\(logs())")
        #expect(created.header("Location") == "/items/7")
        #expect(created.header("Status") == nil)

        // Without header_down, the Status line reaches the client as a header.
        let passed = try caddy.request("/status-code?code=404", site: 1)
        #expect(passed.status == 404, "\(logs())")
        #expect(passed.header("Status") == "404 Not Found")
        // A 200 carries no Status line (as php-cgi's), so none reaches the client.
        let ok = try caddy.request("/setup", site: 1)
        #expect(ok.status == 200)
        #expect(ok.header("Status") == nil, "\(ok.headers)")

        let body = FrontEndFixture.body(300_000)
        let unix = try caddy.request("/echo", site: 2, method: "POST", body: body)
        #expect(unix.status == 200, "\(logs())")
        #expect(unix.body == body)
    }

    @Test func theParamsItSendsWithoutAndWithSplitAndPhpFastcgi() throws {
        let f = try FrontEndFixture()
        FrontEndFixture.write(f.root, "index.php", "", mode: 0o644)
        let caddy = try CaddyServer(sites: [
            "reverse_proxy 127.0.0.1:\(f.infoPort) {\n\ttransport fastcgi {\n\t\troot \(f.root)\n\t}\n}",
            "root * \(f.root)\nreverse_proxy 127.0.0.1:\(f.infoPort) {\n\ttransport fastcgi {\n\t\tsplit .sh\n\t}\n}",
            "root * \(f.root)\nphp_fastcgi 127.0.0.1:\(f.infoPort)",
            "root * \(f.root)\nreverse_proxy 127.0.0.1:\(f.cgiPort) {\n\ttransport fastcgi {\n\t\tsplit .sh\n\t}\n}",
        ])
        let logs = { "caddy:\n\(caddy.errorLog)\nfpm:\n\(f.server.log)" }

        let plain = try caddy.request("/x/y?q=1")
        #expect(plain.status == 200, "\(logs())")
        let p = FrontEndFixture.params(plain)
        print("caddy reverse_proxy transport fastcgi GET /x/y?q=1: \(FrontEndFixture.summary(p)) SERVER_NAME=\(p["SERVER_NAME"] ?? "-")")
        #expect(p["SCRIPT_NAME"] == "")
        #expect(p["PATH_INFO"] == "/x/y")
        #expect(p["SCRIPT_FILENAME"] == f.root)
        #expect(p["PATH_TRANSLATED"] == f.root + "/x/y")
        #expect(p["REQUEST_URI"] == "/x/y?q=1")
        #expect(p["QUERY_STRING"] == "q=1")
        #expect(p["DOCUMENT_ROOT"] == f.root)
        // SERVER_NAME without the port (unlike HAProxy), SERVER_PORT the port.
        #expect(p["SERVER_NAME"] == "127.0.0.1")
        #expect(p["SERVER_PORT"] == String(caddy.ports[0]))
        #expect(p["SERVER_SOFTWARE"]?.hasPrefix("Caddy/") == true)

        let split = try caddy.request("/hello.sh/more/path?q=1", site: 1)
        #expect(split.status == 200, "\(logs())")
        let s = FrontEndFixture.params(split)
        print("caddy transport fastcgi split .sh GET /hello.sh/more/path?q=1: \(FrontEndFixture.summary(s))")
        #expect(s["SCRIPT_NAME"] == "/hello.sh")
        #expect(s["PATH_INFO"] == "/more/path")
        #expect(s["SCRIPT_FILENAME"] == f.root + "/hello.sh")
        #expect(s["PATH_TRANSLATED"] == f.root + "/more/path")

        // php_fastcgi: a path that is no file goes to /index.php (the front controller).
        let php = try caddy.request("/x/y?q=1", site: 2)
        #expect(php.status == 200, "\(logs())")
        let h = FrontEndFixture.params(php)
        print("caddy php_fastcgi GET /x/y?q=1: \(FrontEndFixture.summary(h))")
        #expect(h["SCRIPT_NAME"] == "/index.php")
        #expect(h["PATH_INFO"] == "")
        #expect(h["SCRIPT_FILENAME"] == f.root + "/index.php")
        #expect(h["REQUEST_URI"] == "/x/y?q=1")

        try expectCGIServes(formRequest { try caddy.request($0, site: 3, method: $1, body: $2, headers: $3) },
                            root: f.root, logs: logs)
    }

    /// php-cgi in an exec pool behind `php_fastcgi`, as php-fpm is.
    @Test(.enabled(if: FrontEndFixture.hasPHP, "php8.2-cgi is not installed: run `make deps`"))
    func phpFastcgiServesPhpCgiInAnExecPool() throws {
        let f = try FrontEndFixture()
        let caddy = try CaddyServer(sites: ["root * \(f.root)\nphp_fastcgi 127.0.0.1:\(f.phpPort) {\n\theader_down -Status\n}"])
        let logs = { "caddy:\n\(caddy.errorLog)\nfpm:\n\(f.server.log)" }
        try expectPHPServes(formRequest { try caddy.request($0, method: $1, body: $2, headers: $3) },
                            script: "/php/index.php", root: f.root, logs: logs)
    }

    @Test func theExampleConfigurationsAreValid() throws {
        let files = exampleFiles("caddy", suffix: ".Caddyfile")
        #expect(files.count >= 4)
        let dir = TestSupport.makeTempDirectory("fronts-caddy-check")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for file in files {
            let r = try runCommand(CaddyServer.binary!, ["validate", "--config", file, "--adapter", "caddyfile"],
                                   environment: CaddyServer.environment(dir))
            #expect(r.status == 0, "\(file): \(r.stdout)\(r.stderr)")
            #expect((r.stdout + r.stderr).contains("Valid configuration"), "\(file): \(r.stderr)")
            // Caddy warns about a file `caddy fmt` would change.
            #expect(!(r.stdout + r.stderr).contains("not formatted"), "\(file): \(r.stderr)")
        }
        let snippets = readmeBlocks("caddyfile")
        #expect(snippets.count == 1)
        for snippet in snippets {
            TestSupport.write(dir + "/readme.Caddyfile", snippet)
            let r = try runCommand(CaddyServer.binary!, ["validate", "--config", dir + "/readme.Caddyfile", "--adapter", "caddyfile"],
                                   environment: CaddyServer.environment(dir))
            #expect(r.status == 0, "README: \(r.stdout)\(r.stderr)")
            #expect(!(r.stdout + r.stderr).contains("not formatted"), "README: \(r.stderr)")
        }
    }
}
