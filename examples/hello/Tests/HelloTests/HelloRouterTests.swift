import FPM
import FPMTesting
import Foundation
@testable import hello
import Testing

/// HelloApp's routes in-process through FPMTesting: no server, no socket, no fork.
@Suite struct HelloRouterTests {
    func client(greeting: String = "Hello") throws -> TestClient {
        try TestClient(HelloApp.router(), worker: WorkerInfo(pool: "hello", pid: 4242, slot: 0,
                                                             environment: [("HELLO_GREETING", greeting)]))
    }

    @Test func greetsByQueryAndByPath() throws {
        let client = try client(greeting: "Howdy")
        let query = client.get("/hello?name=Swift")
        #expect(query.status == .ok)
        #expect(query.headers[.contentType] == "text/plain; charset=utf-8")
        #expect(query.text == "Howdy, Swift!\n")
        #expect(client.get("/hello/Ann").text == "Howdy, Ann!\n")
        #expect(client.get("/").text == "Howdy, world!\n")
    }

    @Test func jsonCountsRequestsPerWorker() throws {
        let client = try client()
        _ = client.get("/")
        let response = client.get("/json")
        #expect(response.headers[.contentType] == "application/json")
        let status = try JSONDecoder().decode(HelloApp.Status.self, from: Data(response.body))
        #expect(status.pool == "hello")
        #expect(status.pid == 4242)
        #expect(status.served == 2)
    }

    @Test func decodesAJSONBodyAndRefusesABadOne() throws {
        let client = try client()
        let ok = client.post("/hello", text: #"{"name":"Bo","excited":true}"#, contentType: "application/json")
        #expect(ok.text == #"{"message":"Hello, Bo!!"}"# + "\n")
        let bad = client.post("/hello", text: #"{"nom":"Bo"}"#, contentType: "application/json")
        #expect(bad.status == .badRequest)
        #expect(bad.text == "invalid JSON body: the key 'name' is missing\n")
    }

    @Test func echoAndForm() throws {
        let client = try client()
        let body = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        #expect(client.post("/echo", body: body).body == body)
        #expect(client.post("/form", form: [("a", "1"), ("b", "two words")]).text == "a=1\nb=two words\n")
    }

    @Test func errorsAndUnknownRoutes() throws {
        let client = try client()
        let thrown = client.get("/throw")
        #expect(thrown.status == .internalServerError)
        #expect(thrown.error == "demo error from /throw")
        #expect(client.get("/nowhere").status == .notFound)
        let wrongMethod = client.delete("/hello")
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.headers[.allow] == "GET, POST, HEAD")
    }

    @Test func theAPIGroupChecksItsTokenAndEveryAnswerHasARequestID() throws {
        let open = try client()
        let answer = open.get("/api/greetings/Ann")
        #expect(answer.status == .ok)
        let id = try #require(answer.headers[HTTPField.Name("X-Request-Id")!])
        #expect(id.count == 32)
        #expect(answer.text == #"{"message":"Hello, Ann!","request":"\#(id)"}"# + "\n"
                || answer.text == #"{"request":"\#(id)","message":"Hello, Ann!"}"# + "\n")
        #expect(open.get("/nowhere").headers[HTTPField.Name("X-Request-Id")!] != nil)

        let guarded = try TestClient(HelloApp.router(), worker: WorkerInfo(pool: "hello", pid: 1, slot: 0,
                                                                             environment: [("HELLO_API_TOKEN", "t0k")]))
        let refused = guarded.get("/api/greetings/Ann")
        #expect(refused.status == .unauthorized)
        #expect(refused.headers[.wwwAuthenticate] == "Bearer")
        var headers = HTTPFields()
        headers[.authorization] = "Bearer t0k"
        #expect(guarded.get("/api/greetings/Ann", headers: headers).status == .ok)
        // Routes outside the group are not guarded.
        #expect(guarded.get("/hello/Ann").status == .ok)
    }
}
