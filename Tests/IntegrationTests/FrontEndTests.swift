import Foundation
import Testing

/// A form POST as a browser sends it (the test app's /echo ignores the type).
private func send(_ request: @escaping (String, String, [UInt8], [(String, String)]) throws -> HTTPResponse)
    -> (String, String, [UInt8]) throws -> HTTPResponse {
    { path, method, body in
        try request(path, method, body, method == "POST" ? [("Content-Type", "application/x-www-form-urlencoded")] : [])
    }
}

/// Apache httpd with mod_proxy_fcgi in front of the real fpm binary: the `SetHandler` and the
/// `ProxyPass` recipes, TCP and unix sockets, each pool kind.
@Suite(.serialized, .enabled(if: ApacheServer.binary != nil, "apache2 is not installed: run `make deps` (CI installs it)"))
struct ApacheFrontEndTests {
    @Test func setHandlerServesTheSwiftAppTheCGIPoolAndTheirParams() throws {
        let f = try FrontEndFixture()
        let apache = try ApacheServer(documentRoot: f.root, sites: [
            """
            <Location "/">
                SetHandler "proxy:fcgi://127.0.0.1:\(f.appPort)"
            </Location>
            """,
            """
            <FilesMatch "\\.sh$">
                SetHandler "proxy:fcgi://127.0.0.1:\(f.cgiPort)"
            </FilesMatch>
            <Location "/info/">
                SetHandler "proxy:fcgi://127.0.0.1:\(f.infoPort)"
            </Location>
            <Location "/unix/">
                SetHandler "proxy:unix:\(f.appSocket)|fcgi://localhost"
            </Location>
            """,
        ])
        let logs = { "apache:\n\(apache.errorLog)\nfpm:\n\(f.server.log)" }
        try expectSwiftAppServes(send { try apache.get($0, site: 0, method: $1, body: $2, headers: $3) }, logs: logs)
        // Apache sent SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:PORT/…/hello.sh: a 403 before the fix.
        try expectCGIServes(send { try apache.get($0, site: 1, method: $1, body: $2, headers: $3) }, root: f.root, logs: logs)
        let pathInfo = try apache.get("/hello.sh/more/path", site: 1)
        #expect(pathInfo.status == 200, "\(logs())")
        #expect(pathInfo.text.contains("cgi SCRIPT_NAME=/hello.sh\ncgi PATH_INFO=/more/path\n"), "\(pathInfo.text)")

        // The unix socket form of SetHandler, to the test app's own pool (SCRIPT_NAME /unix).
        let unix = try apache.get("/unix/echo", site: 1, method: "POST", body: FrontEndFixture.body(10_000))
        #expect(unix.status == 200, "\(logs())")
        #expect(unix.text.hasPrefix("pid "))
        #expect(unix.header("X-Worker-PID") != nil)

        let info = try apache.get("/info/x/y?q=1", site: 1)
        #expect(info.status == 200, "\(logs())")
        let p = FrontEndFixture.params(info)
        print("apache SetHandler <Location /info/> GET /info/x/y?q=1: \(FrontEndFixture.summary(p))")
        #expect(p["SCRIPT_NAME"] == "/info")
        #expect(p["PATH_INFO"] == "/x/y")
        #expect(p["SCRIPT_FILENAME"] == f.root + "/info")
        #expect(p["PATH_TRANSLATED"] == f.root + "/x/y")
        #expect(p["REQUEST_URI"] == "/info/x/y?q=1")
        #expect(p["QUERY_STRING"] == "q=1")
        #expect(p["DOCUMENT_ROOT"] == f.root)
    }

    @Test func proxyPassServesTheSwiftAppOverTCPAndAUnixSocketAndTheCGIPool() throws {
        let f = try FrontEndFixture()
        let apache = try ApacheServer(documentRoot: f.root, sites: [
            """
            ProxyPass "/" "fcgi://127.0.0.1:\(f.appPort)/" enablereuse=on
            """,
            """
            ProxyPass "/app/" "fcgi://127.0.0.1:\(f.infoPort)/"
            ProxyPass "/cgi/" "fcgi://127.0.0.1:\(f.cgiPort)\(f.root)/"
            <Proxy "balancer://fpm">
                BalancerMember "fcgi://127.0.0.1:\(f.infoPort)"
            </Proxy>
            ProxyPass "/bal/" "balancer://fpm/"
            """,
            """
            ProxyPass "/" "unix:\(f.appSocket)|fcgi://localhost/"
            """,
        ])
        let logs = { "apache:\n\(apache.errorLog)\nfpm:\n\(f.server.log)" }
        try expectSwiftAppServes(send { try apache.get($0, site: 0, method: $1, body: $2, headers: $3) }, logs: logs)

        let info = try apache.get("/app/x/y?q=1", site: 1)
        #expect(info.status == 200, "\(logs())")
        let p = FrontEndFixture.params(info)
        print("apache ProxyPass /app/ GET /app/x/y?q=1: \(FrontEndFixture.summary(p))")
        #expect(p["SCRIPT_NAME"] == "/app/x/y")
        #expect(p["PATH_INFO"] == nil)
        #expect(p["SCRIPT_FILENAME"] == "/x/y")
        #expect(p["REQUEST_URI"] == "/app/x/y?q=1")
        let bal = try apache.get("/bal/x/y?q=1", site: 1)
        #expect(bal.status == 200, "\(logs())")
        let b = FrontEndFixture.params(bal)
        print("apache ProxyPass /bal/ balancer://fpm/ GET /bal/x/y?q=1: \(FrontEndFixture.summary(b))")
        #expect(b["SCRIPT_NAME"] == "/bal/x/y")
        #expect(b["SCRIPT_FILENAME"] == "/x/y")

        // ProxyPass onto the document root: SCRIPT_FILENAME=proxy:fcgi://127.0.0.1:PORT/root/hello.sh.
        try expectCGIServes(send { try apache.get($0, site: 1, method: $1, body: $2, headers: $3) }, root: f.root,
                            prefix: "/cgi", logs: logs)

        // The unix socket form: the test app's own pool, one worker.
        let unix = try apache.get("/anything", site: 2)
        #expect(unix.status == 200, "\(logs())")
        let body = FrontEndFixture.body(100_000)
        let echo = try apache.get("/echo", site: 2, method: "POST", body: body)
        #expect(echo.status == 200, "\(logs())")
        #expect(echo.body == body)
        let big = try apache.get("/big", site: 2)
        #expect(big.body.count == 1_048_576)
        #expect(try apache.get("/status-code?code=503", site: 2).status == 503)
    }

    @Test func theExampleConfigurationsAreValid() throws {
        let files = exampleConfigurations("apache")
        #expect(files.count >= 5)
        let dir = TestSupport.makeTempDirectory("fronts-apache-check")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let modules = ["mpm_event", "authz_core", "authz_host", "proxy", "proxy_fcgi"]
            .map { "LoadModule \($0)_module \(ApacheServer.moduleDirectory)/mod_\($0).so" }.joined(separator: "\n")
        for file in files {
            TestSupport.write(dir + "/httpd.conf", """
            ServerRoot \(dir)
            DefaultRuntimeDir \(dir)
            PidFile \(dir)/httpd.pid
            ErrorLog \(dir)/error.log
            \(modules)
            Include \(file)
            """)
            let r = try runCommand(ApacheServer.binary!, ["-t", "-f", dir + "/httpd.conf"])
            #expect(r.status == 0, "\(file): \(r.stdout)\(r.stderr)")
            #expect((r.stdout + r.stderr).contains("Syntax OK"), "\(file): \(r.stderr)")
        }
    }

    /// An exec pool's program reads Apache's params itself: php-cgi, unlike php-fpm, does not
    /// strip `proxy:fcgi://` and answers "No input file specified."; `ProxyFCGIBackendType
    /// GENERIC` makes Apache send the plain path, and then it serves.
    @Test(.enabled(if: FrontEndFixture.hasPHP, "php8.2-cgi is not installed: run `make deps`"))
    func phpCgiInAnExecPoolNeedsTheGenericBackendType() throws {
        let f = try FrontEndFixture()
        let apache = try ApacheServer(documentRoot: f.root, sites: [
            """
            <FilesMatch "\\.php$">
                SetHandler "proxy:fcgi://127.0.0.1:\(f.phpPort)"
            </FilesMatch>
            <Directory "\(f.root)/generic">
                ProxyFCGIBackendType GENERIC
            </Directory>
            """,
        ])
        let logs = { "apache:\n\(apache.errorLog)\nfpm:\n\(f.server.log)" }
        let fpmType = try apache.get("/php/index.php")
        #expect(fpmType.status == 404, "\(fpmType.text)\n\(logs())")
        #expect(fpmType.text.contains("No input file specified."))
        try expectPHPServes(send { try apache.get($0, site: 0, method: $1, body: $2, headers: $3) },
                            script: "/generic/index.php", root: f.root, logs: logs)
    }
}

/// `examples/<server>/*.conf` files, each checked by the server itself (`-t`, `-tt`) inside a
/// minimal main configuration.
func exampleConfigurations(_ server: String) -> [String] {
    let dir = ExecPoolTests.repositoryRoot + "/examples/" + server
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
        .filter { $0.hasSuffix(".conf") }.sorted().map { dir + "/" + $0 }
}

/// lighttpd with mod_fastcgi in front of the real fpm binary, with and without
/// `"fix-root-scriptname" => "enable"`.
@Suite(.serialized, .enabled(if: LighttpdServer.binary != nil, "lighttpd is not installed: run `make deps` (CI installs it)"))
struct LighttpdFrontEndTests {
    @Test func extensionsAndPrefixesServeEveryPoolKind() throws {
        let f = try FrontEndFixture()
        let hasPHP = FrontEndFixture.hasPHP
        let php = hasPHP
            ? "\".php\" => (( \"host\" => \"127.0.0.1\", \"port\" => \(f.phpPort), \"check-local\" => \"enable\" )),"
            : ""
        let lighttpd = try LighttpdServer(documentRoot: f.root, sites: [
            """
            fastcgi.server = (
                ".sh" => (( "host" => "127.0.0.1", "port" => \(f.cgiPort), "check-local" => "enable" )),
                \(php)
                "/info/" => (( "host" => "127.0.0.1", "port" => \(f.infoPort), "check-local" => "disable" )),
                "/" => (( "host" => "127.0.0.1", "port" => \(f.appPort), "check-local" => "disable" )),
            )
            """,
            """
            fastcgi.server = ( "/" => (( "socket" => "\(f.appSocket)", "check-local" => "disable" )) )
            """,
            """
            fastcgi.server = ( "/" => (( "host" => "127.0.0.1", "port" => \(f.infoPort), "check-local" => "disable" )) )
            """,
        ])
        let logs = { "lighttpd:\n\(lighttpd.errorLog)\nfpm:\n\(f.server.log)" }
        try expectSwiftAppServes(send { try lighttpd.get($0, site: 0, method: $1, body: $2, headers: $3) }, logs: logs)
        try expectCGIServes(send { try lighttpd.get($0, site: 0, method: $1, body: $2, headers: $3) }, root: f.root, logs: logs)
        if hasPHP {
            try expectPHPServes(send { try lighttpd.get($0, site: 0, method: $1, body: $2, headers: $3) },
                                script: "/php/index.php", root: f.root, logs: logs)
        }
        let info = try lighttpd.get("/info/x/y?q=1")
        #expect(info.status == 200, "\(logs())")
        let p = FrontEndFixture.params(info)
        print("lighttpd \"/info/\" GET /info/x/y?q=1: \(FrontEndFixture.summary(p))")
        // A prefix ending in "/" takes the next path segment as the script.
        #expect(p["SCRIPT_NAME"] == "/info/x")
        #expect(p["PATH_INFO"] == "/y")
        #expect(p["SCRIPT_FILENAME"] == f.root + "/info/x")
        #expect(p["PATH_TRANSLATED"] == f.root + "/y")
        #expect(p["REQUEST_URI"] == "/info/x/y?q=1")

        let root = try lighttpd.get("/x/y?q=1", site: 2)
        #expect(root.status == 200, "\(logs())")
        let r = FrontEndFixture.params(root)
        print("lighttpd \"/\" GET /x/y?q=1: \(FrontEndFixture.summary(r))")
        // Even at "/", the first path segment is the script (an app must route on SCRIPT_NAME + PATH_INFO).
        #expect(r["SCRIPT_NAME"] == "/x")
        #expect(r["PATH_INFO"] == "/y")
        #expect(r["SCRIPT_FILENAME"] == f.root + "/x")
        #expect(r["PATH_TRANSLATED"] == f.root + "/y")
        #expect(r["REQUEST_URI"] == "/x/y?q=1")

        let unix = try lighttpd.get("/echo", site: 1, method: "POST", body: FrontEndFixture.body(50_000))
        #expect(unix.status == 200, "\(logs())")
        #expect(unix.body == FrontEndFixture.body(50_000))
    }

    @Test func theExampleConfigurationsAreValid() throws {
        let files = exampleConfigurations("lighttpd")
        #expect(files.count >= 4)
        let dir = TestSupport.makeTempDirectory("fronts-lighttpd-check")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for file in files {
            TestSupport.write(dir + "/lighttpd.conf", """
            server.document-root = "\(dir)"
            server.bind = "127.0.0.1"
            server.port = \(TestSupport.freePort())
            server.errorlog = "\(dir)/error.log"
            include "\(file)"
            """)
            // -tt also loads the modules and checks their settings (fastcgi.server's hosts).
            let r = try runCommand(LighttpdServer.binary!, ["-tt", "-f", dir + "/lighttpd.conf"])
            #expect(r.status == 0, "\(file): \(r.stdout)\(r.stderr)")
        }
    }

    /// With fix-root-scriptname an app at "/" gets SCRIPT_NAME "" and the whole path in
    /// PATH_INFO; the status and ping pages still answer (matched on PATH_INFO then).
    @Test func fixRootScriptnameSendsThePathAsPathInfo() throws {
        let f = try FrontEndFixture()
        func site(_ port: Int) -> String {
            """
            fastcgi.server = ( "/" => (( "host" => "127.0.0.1", "port" => \(port), "check-local" => "disable",
                                         "fix-root-scriptname" => "enable" )) )
            """
        }
        let lighttpd = try LighttpdServer(documentRoot: f.root, sites: [site(f.appPort), site(f.infoPort)])
        let logs = { "lighttpd:\n\(lighttpd.errorLog)\nfpm:\n\(f.server.log)" }

        let info = try lighttpd.get("/x/y?q=1", site: 1)
        #expect(info.status == 200, "\(logs())")
        let p = FrontEndFixture.params(info)
        print("lighttpd \"/\" fix-root-scriptname GET /x/y?q=1: \(FrontEndFixture.summary(p))")
        #expect(p["SCRIPT_NAME"] == "")
        #expect(p["PATH_INFO"] == "/x/y")
        #expect(p["SCRIPT_FILENAME"] == f.root + "/")
        #expect(p["PATH_TRANSLATED"] == f.root + "/x/y")
        #expect(p["REQUEST_URI"] == "/x/y?q=1")
        let body = FrontEndFixture.body(300_000)
        let post = try lighttpd.get("/upload", site: 1, method: "POST", body: body)
        #expect(post.status == 200, "\(logs())")
        #expect(post.text.contains("\nbody length: 300000\n"), "\(post.text)")

        let status = try lighttpd.get("/status")
        #expect(status.status == 200, "\(logs())")
        #expect(FrontEndFixture.isStatusPage(status, pool: "app"), "\(status.text)")
        let ping = try lighttpd.get("/ping")
        #expect(ping.text.hasPrefix("pong"), "\(ping.text)")
        // The Swift app routes on `request.path` (SCRIPT_NAME + PATH_INFO): every route answers
        // behind fix-root-scriptname, where SCRIPT_NAME is empty.
        try expectSwiftAppServes(send { try lighttpd.get($0, site: 0, method: $1, body: $2, headers: $3) }, logs: logs)
    }
}
