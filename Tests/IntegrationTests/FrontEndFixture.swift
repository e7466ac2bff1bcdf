import Foundation
import Testing

/// One fpm with a pool of each kind a web server may front, and a document root of scripts,
/// shared by the Apache and lighttpd tests:
/// - `app`: the test app (a Swift handler), TCP, with `pm.status_path = /status`, `ping.path = /ping`;
/// - `appunix`: the test app on a unix socket;
/// - `cgi`: `handler = cgi` over the document root's `*.sh`;
/// - `info`: `handler = info`, whose page lists the params the web server sent;
/// - `php`: an exec pool running php-cgi (when php-cgi is installed).
final class FrontEndFixture {
    let root: String
    let server: FPMServer
    let cgiPort: Int
    let infoPort: Int
    let phpPort: Int
    var appPort: Int { server.port }
    var appSocket: String { server.dir + "/app.sock" }

    static let phpCGI = "/usr/bin/php-cgi8.2"
    static var hasPHP: Bool { FileManager.default.isExecutableFile(atPath: phpCGI) }

    init() throws {
        root = TestSupport.makeTempDirectory("fronts-root")
        for sub in ["php", "generic"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
            chmod(root + "/" + sub, 0o755)
        }
        // Reads the body it is given, answers `Status: N` for ?code=N, reports what it saw.
        FrontEndFixture.write(root, "hello.sh", """
        #!/bin/sh
        body=$(head -c "${CONTENT_LENGTH:-0}" | wc -c)
        printf 'Content-Type: text/plain\\r\\n'
        case "$QUERY_STRING" in code=*) printf 'Status: %s Custom\\r\\n' "${QUERY_STRING#code=}" ;; esac
        printf '\\r\\n'
        echo "cgi SCRIPT_FILENAME=$SCRIPT_FILENAME"
        echo "cgi SCRIPT_NAME=$SCRIPT_NAME"
        echo "cgi PATH_INFO=$PATH_INFO"
        echo "cgi body=$body"
        """, mode: 0o755)
        FrontEndFixture.write(root, "big.sh", """
        #!/bin/sh
        printf 'Content-Type: text/plain\\r\\n\\r\\n'
        head -c 1200000 /dev/zero | tr '\\000' 'y'
        """, mode: 0o755)
        let php = """
        <?php
        if (isset($_GET["code"])) { http_response_code((int)$_GET["code"]); }
        echo "php SCRIPT_FILENAME=", $_SERVER["SCRIPT_FILENAME"], " name=", $_POST["name"] ?? $_GET["name"] ?? "", "\\n";
        """
        FrontEndFixture.write(root, "php/index.php", php, mode: 0o644)
        FrontEndFixture.write(root, "generic/index.php", php, mode: 0o644)
        server = try FPMServer(name: "fronts", pools: "", binary: TestSupport.testAppPath, start: false)
        let ports = distinctFreePorts(3, besides: [server.port])
        (cgiPort, infoPort, phpPort) = (ports[0], ports[1], ports[2])
        let phpPool = FrontEndFixture.hasPHP ? """
        [php]
        listen = 127.0.0.1:\(phpPort)
        pm = static
        pm.max_children = 1
        exec = \(FrontEndFixture.phpCGI)
        """ : ""
        server.writeConfig(pools: """
        [app]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 2
        handler = testapp
        pm.status_path = /status
        ping.path = /ping

        [appunix]
        listen = {{DIR}}/app.sock
        listen.mode = 0666
        pm = static
        pm.max_children = 1
        handler = testapp

        [cgi]
        listen = 127.0.0.1:\(cgiPort)
        pm = static
        pm.max_children = 2
        handler = cgi

        [info]
        listen = 127.0.0.1:\(infoPort)
        pm = static
        pm.max_children = 1
        handler = info

        \(phpPool)
        """)
        try server.start()
        // The unix socket's folder must be reachable by the web server's user (nobody under root).
        chmod(server.dir, 0o755)
    }

    static func write(_ root: String, _ name: String, _ text: String, mode: Int) {
        FileManager.default.createFile(atPath: root + "/" + name, contents: Data(text.utf8),
                                       attributes: [.posixPermissions: mode])
    }

    /// The params listed by the `info` pool's page (`NAME=value` lines).
    static func params(_ page: HTTPResponse) -> [String: String] {
        var out: [String: String] = [:]
        var inParams = false
        for line in page.text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("params (") { inParams = true; continue }
            if inParams && line.isEmpty { break }
            guard inParams, let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    /// The front-end-relevant params of an info page, for the report and the READMEs.
    static func summary(_ p: [String: String]) -> String {
        ["SCRIPT_NAME", "PATH_INFO", "SCRIPT_FILENAME", "PATH_TRANSLATED", "REQUEST_URI", "DOCUMENT_ROOT"]
            .map { "\($0)=\(p[$0] ?? "(absent)")" }.joined(separator: " ")
    }

    /// The status page's `pool:` line names `pool`.
    static func isStatusPage(_ r: HTTPResponse, pool: String) -> Bool {
        r.text.split(separator: "\n").contains { $0.hasPrefix("pool:") && $0.hasSuffix(" \(pool)") }
            && r.text.contains("accepted conn:")
    }

    /// A body of `n` bytes that is not one repeated byte.
    static func body(_ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 / 251) } }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// The cases every front end must serve from the Swift handler pool mounted at its root
/// (SCRIPT_NAME = the route): GET, POST with a body, ≥ 1 MB response, a status code, the
/// status and ping pages. `get` sends one request through the web server; `logs` are shown
/// when an expectation fails.
func expectSwiftAppServes(_ get: (String, String, [UInt8]) throws -> HTTPResponse, logs: () -> String) throws {
    let plain = try get("/anything?x=1", "GET", [])
    #expect(plain.status == 200, "\(plain.text)\n\(logs())")
    #expect(plain.text.hasPrefix("pid "))
    #expect(plain.header("X-Worker-PID") != nil)

    let body = FrontEndFixture.body(200_000)
    let echo = try get("/echo", "POST", body)
    #expect(echo.status == 200, "\(logs())")
    #expect(echo.body.count == body.count)
    #expect(echo.body == body)

    let big = try get("/big?bytes=1100000", "GET", [])
    #expect(big.status == 200, "\(logs())")
    #expect(big.body.count == 1_100_000)
    #expect(big.body.allSatisfy { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "\n") })

    let teapot = try get("/status-code?code=418", "GET", [])
    #expect(teapot.status == 418, "\(teapot.text)\n\(logs())")
    #expect(teapot.text == "status 418\n")
    let gone = try get("/status-code?code=410", "GET", [])
    #expect(gone.status == 410)

    let status = try get("/status", "GET", [])
    #expect(status.status == 200, "\(logs())")
    #expect(FrontEndFixture.isStatusPage(status, pool: "app"), "\(status.text)")
    let ping = try get("/ping", "GET", [])
    #expect(ping.status == 200)
    #expect(ping.text.hasPrefix("pong"))
}

/// The `cgi` pool's cases: `prefix` is the URL prefix the web server maps onto the document root.
func expectCGIServes(_ get: (String, String, [UInt8]) throws -> HTTPResponse, root: String, prefix: String = "",
                     logs: () -> String) throws {
    let hello = try get(prefix + "/hello.sh", "GET", [])
    #expect(hello.status == 200, "\(hello.text)\n\(logs())")
    #expect(hello.text.contains("cgi SCRIPT_FILENAME=\(root)/hello.sh\n"), "\(hello.text)")
    let post = try get(prefix + "/hello.sh", "POST", FrontEndFixture.body(70_000))
    #expect(post.status == 200, "\(logs())")
    #expect(post.text.contains("cgi body=70000\n"), "\(post.text)")
    let code = try get(prefix + "/hello.sh?code=418", "GET", [])
    #expect(code.status == 418, "\(code.text)\n\(logs())")
    let big = try get(prefix + "/big.sh", "GET", [])
    #expect(big.status == 200, "\(logs())")
    #expect(big.body.count == 1_200_000)
    #expect(big.body.allSatisfy { $0 == UInt8(ascii: "y") })
}

/// The php-cgi exec pool's cases, when the web server sends it plain paths.
func expectPHPServes(_ get: (String, String, [UInt8]) throws -> HTTPResponse, script: String, root: String,
                     logs: () -> String) throws {
    let r = try get(script + "?name=get", "GET", [])
    #expect(r.status == 200, "\(r.text)\n\(logs())")
    #expect(r.text == "php SCRIPT_FILENAME=\(root)\(script) name=get\n")
    let form = Array("name=posted".utf8)
    let post = try get(script, "POST", form)
    #expect(post.status == 200, "\(logs())")
    #expect(post.text.hasSuffix(" name=posted\n"), "\(post.text)")
    let code = try get(script + "?code=418", "GET", [])
    #expect(code.status == 418, "\(logs())")
}
