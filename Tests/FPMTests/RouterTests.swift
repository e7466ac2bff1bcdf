import FoundationEssentials
import FPM
import FPMTesting
import Testing

/// The router, called in-process through FPMTesting.
@Suite struct RouterTests {
    func app() -> Router {
        let router = Router()
        router.get("/") { _, response in try response.send("root\n") }
        router.get("/users/:id") { request, response in
            let id = try request.parameters.require("id", as: Int.self)
            try response.send("user \(id)\n")
        }
        router.delete("/users/:id") { request, response in try response.send("deleted \(request.parameters["id"]!)\n") }
        router.get("/users/:id/posts/:post") { request, response in
            try response.send("\(request.parameters["id"]!)/\(request.parameters["post"]!)\n")
        }
        router.get("/files/*") { request, response in try response.send("file \(request.parameters["*"]!)\n") }
        router.post("/items") { _, response in try response.send("created\n", status: .created) }
        return router
    }

    @Test func parametersAreCaptured() throws {
        let client = try TestClient(app())
        #expect(client.get("/").text == "root\n")
        #expect(client.get("/users/42").text == "user 42\n")
        #expect(client.get("/users/42/").text == "user 42\n")
        #expect(client.get("/users/7/posts/hello-world").text == "7/hello-world\n")
        #expect(client.get("/files/a/b/c.txt").text == "file a/b/c.txt\n")
        #expect(client.delete("/users/9").text == "deleted 9\n")
    }

    @Test func aParameterThatDoesNotConvertIs400() throws {
        let response = try TestClient(app()).get("/users/abc")
        #expect(response.status == .badRequest)
        #expect(response.text == "'abc' is not a valid id\n")
    }

    @Test func noRouteIs404() throws {
        let client = try TestClient(app())
        for path in ["/nope", "/users", "/users/1/posts", "/users/1/posts/2/more"] {
            let response = client.get(path)
            #expect(response.status == .notFound, "\(path)")
            #expect(response.text == "no route for \(path)\n")
            #expect(response.error == nil)
        }
    }

    @Test func aWrongMethodIs405WithAllow() throws {
        let client = try TestClient(app())
        let response = client.put("/users/3")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers[.allow] == "GET, DELETE, HEAD")
        let post = client.get("/items")
        #expect(post.status == .methodNotAllowed)
        #expect(post.headers[.allow] == "POST")
    }

    @Test func headIsServedByAGetRouteWithoutBody() throws {
        let response = try TestClient(app()).head("/users/5")
        #expect(response.status == .ok)
        #expect(response.body.isEmpty)
    }

    @Test func setUpTearDownAndPrepareClosuresRun() throws {
        final class Log: @unchecked Sendable { var lines: [String] = [] }
        let log = Log()
        let router = Router()
        router.onSetUp { log.lines.append("setUp \($0.pool)") }
        router.onTearDown { log.lines.append("tearDown") }
        #expect(!router.preparesPool)
        router.onPrepare { log.lines.append("prepare \($0.name)") }
        #expect(router.preparesPool)
        try router.prepare(PoolInfo(name: "www"))
        let client = try TestClient(router)
        client.close()
        client.close()
        #expect(log.lines == ["prepare www", "setUp test", "tearDown"])
    }
}

/// Response helpers, errors, and FPMTesting's view of them.
@Suite struct ResponseTests {
    struct Todo: Codable, Equatable { var title: String; var done: Bool }
    struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

    func app() -> Router {
        let router = Router()
        router.post("/todos") { request, response in
            let todo = try request.decode(Todo.self)
            try response.json(todo, status: .created)
        }
        router.get("/teapot") { _, _ in throw HTTPError(.init(code: 418), "short and stout") }
        router.get("/private") { _, _ in
            var headers = HTTPFields()
            headers[.wwwAuthenticate] = "Basic realm=\"x\""
            throw HTTPError(.unauthorized, headers: headers)
        }
        router.get("/boom") { _, _ in throw Boom() }
        router.get("/late") { _, response in
            try response.write("partial")
            throw HTTPError(.badRequest)
        }
        router.get("/go") { _, response in try response.redirect(to: "/there") }
        router.get("/stream") { _, response in
            response.contentType = "text/plain"
            try response.addHeader(.cacheControl, "no-store")
            try response.setCookie("sid", "abc")
            for i in 0..<3 { try response.write("line \(i)\n") }
            try response.write([UInt8](repeating: UInt8(ascii: "x"), count: 3)[...])
        }
        router.get("/echo") { request, response in
            try response.send("\(request.query.values(for: "q").joined(separator: ",")) \(request.cookies["c"] ?? "-") \(request.header(.userAgent) ?? "-")")
        }
        router.post("/form") { request, response in
            let form = try request.form()
            try response.send("\(form["name"] ?? "")|\(form["note"] ?? "")")
        }
        return router
    }

    @Test func jsonInJsonOut() throws {
        let response = try TestClient(app()).post("/todos", text: #"{"title":"t","done":true}"#, contentType: "application/json")
        #expect(response.status == .created)
        #expect(response.headers[.contentType] == "application/json")
        #expect(response.text.hasSuffix("\n"))
        #expect(try JSONDecoder().decode(Todo.self, from: Data(response.body)) == Todo(title: "t", done: true))
    }

    @Test func malformedJSONIs400WithTheDecodingErrorsText() throws {
        let response = try TestClient(app()).post("/todos", text: #"{"title":"t"}"#, contentType: "application/json")
        #expect(response.status == .badRequest)
        #expect(response.text == "invalid JSON body: the key 'done' is missing\n")
        #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
    }

    @Test func httpErrorIsAnsweredWithItsStatusAndHeaders() throws {
        let client = try TestClient(app())
        let teapot = client.get("/teapot")
        #expect(teapot.status.code == 418)
        #expect(teapot.text == "short and stout\n")
        let unauthorized = client.get("/private")
        #expect(unauthorized.status == .unauthorized)
        #expect(unauthorized.headers[.wwwAuthenticate] == "Basic realm=\"x\"")
        #expect(unauthorized.text == "Unauthorized\n")
    }

    @Test func anyOtherErrorIsA500AndKept() throws {
        let response = try TestClient(app()).get("/boom")
        #expect(response.status == .internalServerError)
        #expect(response.text == "Internal Server Error\n")
        #expect(response.error == "boom")
    }

    @Test func anHTTPErrorAfterTheHeadIsAFault() throws {
        let response = try TestClient(app()).get("/late")
        #expect(response.status == .ok)
        #expect(response.text == "partial")
        #expect(response.error != nil)
    }

    @Test func redirectStreamAndHeaders() throws {
        let client = try TestClient(app())
        let go = client.get("/go")
        #expect(go.status == .seeOther)
        #expect(go.headers[.location] == "/there")
        let stream = client.get("/stream")
        #expect(stream.text == "line 0\nline 1\nline 2\nxxx")
        #expect(stream.headers[.cacheControl] == "no-store")
        #expect(stream.headers[.setCookie] == "sid=abc; Path=/; HttpOnly")
        #expect(stream.headers[.contentType] == "text/plain")
    }

    @Test func requestSideThroughTheClient() throws {
        var headers = HTTPFields()
        headers[.cookie] = "c=3"
        headers[.userAgent] = "tests/1"
        let client = try TestClient(app())
        #expect(client.get("/echo?q=1&q=two", headers: headers).text == "1,two 3 tests/1")
        #expect(client.post("/form", form: [("name", "Ann & Bo"), ("note", "50% off")]).text == "Ann & Bo|50% off")
    }

    @Test func statusRoundTripsThroughTheResponse() throws {
        let handler = ClosureHandler { _, response in
            response.status = .accepted
            #expect(response.status == .accepted)
            #expect(!response.headSent)
            try response.write("ok")
            #expect(response.headSent)
            #expect(response.bodyBytesWritten == 2)
        }
        let response = try TestClient(handler).get("/")
        #expect(response.status == .accepted)
        #expect(String(decoding: response.output, as: UTF8.self).hasPrefix("Status: 202 Accepted\r\n"))
    }
}
