import FoundationEssentials
import FPM
import FPMTesting
import HTTPTypes
import Testing

/// TestClient takes the worker's path around a handler, keeps cookies, and has a live mode.
@Suite struct TestClientTests {
    func sessionApp() -> Router {
        let router = Router()
        router.post("/login") { request, response in
            try response.setCookie("session", try request.form()["user"] ?? "")
            try response.setCookie("theme", "dark", path: "/settings")
            try response.send("in\n")
        }
        router.get("/me") { request, response in
            try response.send("\(request.cookies["session"] ?? "nobody") \(request.cookies["theme"] ?? "-")\n")
        }
        router.get("/settings/page") { request, response in
            try response.send("\(request.header(.cookie) ?? "")\n")
        }
        router.post("/logout") { _, response in
            try response.deleteCookie("session")
            try response.send("out\n")
        }
        return router
    }

    @Test func cookiesAreKeptAcrossCallsAndScopedByPath() throws {
        let client = try TestClient(sessionApp())
        #expect(client.get("/me").text == "nobody -\n")
        #expect(client.post("/login", form: [("user", "ada")]).text == "in\n")
        #expect(client.cookies["session"] == "ada")
        #expect(client.get("/me").text == "ada -\n", "theme is for /settings only")
        #expect(client.get("/settings/page").text == "theme=dark; session=ada\n", "longer path first")
        #expect(client.get("/me", headers: [.cookie: "session=eve"]).text == "eve -\n", "a Cookie given wins")
        #expect(client.post("/logout").text == "out\n")
        #expect(client.cookies["session"] == nil, "Max-Age=0 deletes it")
        #expect(client.get("/me").text == "nobody -\n")
        client.cookies.set("session", "bob")
        #expect(client.get("/me").text == "bob -\n")
        client.cookies.clear()
        #expect(client.cookies.all.isEmpty)
        #expect(client.get("/me").text == "nobody -\n")
    }

    @Test func theJarHonoursPathMaxAgeAndExpires() {
        var jar = TestCookieJar()
        let now = Date(timeIntervalSince1970: 1_000_000)
        jar.receive("a=1; Path=/; Max-Age=60", requestPath: "/x", now: now)
        jar.receive("b=2", requestPath: "/docs/page", now: now)
        jar.receive("c=3; Expires=Sun, 06 Nov 1994 08:49:37 GMT", requestPath: "/", now: now)
        jar.receive("d=4; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=10", requestPath: "/", now: now)
        #expect(jar.all.map(\.name) == ["a", "b", "c", "d"])
        #expect(jar.all[1].path == "/docs", "the default path is the request's directory")
        #expect(jar.all[2].expires == Date(timeIntervalSince1970: 784_111_777))
        #expect(jar.header(for: "/docs/x", now: now) == "b=2; a=1; c=3; d=4")
        #expect(jar.header(for: "/docsx", now: now) == "a=1; c=3; d=4", "a path prefix counts at a /")
        #expect(jar.header(for: "/", now: now.addingTimeInterval(11)) == "a=1; c=3", "d's Max-Age wins over its Expires")
        #expect(jar.header(for: "/", now: now.addingTimeInterval(61)) == "c=3")
        #expect(jar.header(for: "/", now: Date(timeIntervalSince1970: 784_111_777)) == nil, "c expires then")
        jar.receive("e=5; Expires=Thu, 01 Jan 1970 00:00:00 GMT", requestPath: "/", now: now)
        #expect(!jar.all.contains { $0.name == "e" }, "an Expires in the past is not kept")
        jar.receive("a=; Max-Age=0", requestPath: "/", now: now)
        #expect(!jar.all.contains { $0.name == "a" })
    }

    @Test func builtInPagesQuirksAndTheAccessLogLineAsTheWorker() throws {
        let router = Router()
        router.get("/script") { request, response in try response.send("\(request.scriptFilename ?? "-")\n") }
        router.get("/boom") { _, response in
            try response.setHeader("X-Before", "1")
            struct Boom: Error {}
            throw Boom()
        }
        let client = try TestClient(router, pool: """
            ping.path = /ping
            ping.response = alive
            access.format = "%m %r%Q%q %s %{X-Before}o %n"
            access.suppress_path[] = /ping
            """)
        let ping = client.get("/ping")
        #expect(ping.text == "alive\n" || ping.text == "alive", "\(ping.text)")
        #expect(ping.status == .ok)
        #expect(ping.accessLogLine == nil, "suppressed")
        // Apache's mod_proxy_fcgi sends the proxy URL: the handler sees the path, as in a worker.
        let script = client.execute(.get, "/script", params: [("SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:9000/srv/app?x=1")])
        #expect(script.text == "/srv/app\n")
        #expect(client.get("/script?a=b").accessLogLine == "GET /script?a=b 200 - test\n")
        let boom = client.get("/boom")
        #expect(boom.status == .internalServerError)
        #expect(boom.text == "Internal Server Error\n")
        #expect(boom.header(.contentType) == "text/plain; charset=utf-8")
        #expect(boom.error != nil)
        #expect(boom.accessLogLine == "GET /boom 500 1 test\n")
    }

    @Test func aWrongPoolLineIsReported() throws {
        #expect(throws: (any Error).self) { try TestClient(Router(), pool: "access.format = %{nope") }
    }
}
