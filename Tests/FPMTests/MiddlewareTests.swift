import FPM
import FPMTesting
import Testing

/// Middleware and groups: order, short-circuit, error mapping, prefixes, nesting.
@Suite struct MiddlewareTests {
    /// Appends its name to a trace before and after the rest of the chain.
    final class Trace { var steps: [String] = [] }
    struct Mark: Middleware {
        let name: String
        let trace: Trace
        func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
            trace.steps.append("\(name)>")
            defer { trace.steps.append("<\(name)") }
            try next(request, response)
        }
    }

    @Test func middlewareRunsInTheOrderAddedAroundTheRoute() throws {
        let trace = Trace()
        let router = Router()
        router.get("/x") { _, response in trace.steps.append("route"); try response.send("x") }
        router.use(Mark(name: "a", trace: trace))
        router.use(Mark(name: "b", trace: trace))
        let response = try TestClient(router).get("/x")
        #expect(response.text == "x")
        #expect(trace.steps == ["a>", "b>", "route", "<b", "<a"])
    }

    @Test func aMiddlewareCanAnswerWithoutTheRoute() throws {
        let trace = Trace()
        let router = Router()
        router.use { request, response, next in
            guard request.header(.authorization) == "Bearer ok" else { throw HTTPError(.unauthorized) }
            try next(request, response)
        }
        router.use { _, response, _ in try response.send("maintenance", status: .serviceUnavailable) }
        router.get("/x") { _, response in trace.steps.append("route"); try response.send("x") }
        let client = try TestClient(router)
        #expect(client.get("/x").status == .unauthorized)
        var headers = HTTPFields()
        headers[.authorization] = "Bearer ok"
        let response = client.get("/x", headers: headers)
        #expect(response.status == .serviceUnavailable)
        #expect(response.text == "maintenance")
        #expect(trace.steps.isEmpty)
    }

    @Test func aMiddlewareMapsErrorsToResponses() throws {
        struct NotFoundInStore: Error {}
        let router = Router()
        router.use { request, response, next in
            do {
                try next(request, response)
            } catch is NotFoundInStore {
                try response.json(["error": "gone"], status: .gone)
            } catch let error as HTTPError where error.status == .notFound {
                try response.send("custom 404 for \(request.path)\n", status: .notFound)
            }
        }
        router.get("/item") { _, _ in throw NotFoundInStore() }
        let client = try TestClient(router)
        let mapped = client.get("/item")
        #expect(mapped.status == .gone)
        #expect(mapped.text == #"{"error":"gone"}"# + "\n")
        #expect(mapped.error == nil)
        let missing = client.get("/nowhere")
        #expect(missing.text == "custom 404 for /nowhere\n")
        // The 405 is not mapped: it passes through with its Allow.
        let wrong = client.post("/item")
        #expect(wrong.status == .methodNotAllowed)
        #expect(wrong.headers[.allow] == "GET, HEAD")
    }

    @Test func routerMiddlewareSeesTheMatchedRouteAndItsParameters() throws {
        final class Seen { var values: [String] = [] }
        let seen = Seen()
        let router = Router()
        router.use { request, response, next in
            seen.values.append("\(request.route ?? "-") \(request.parameters["id"] ?? "-")")
            try next(request, response)
        }
        router.group("/api").get("/todos/:id") { _, response in try response.send("ok") }
        let client = try TestClient(router)
        _ = client.get("/api/todos/7")
        _ = client.get("/api/nothing")
        #expect(seen.values == ["/api/todos/:id 7", "- -"])
    }

    @Test func groupsPrefixTheirRoutesAndNestTheirMiddleware() throws {
        let trace = Trace()
        let router = Router()
        router.use(Mark(name: "router", trace: trace))
        router.get("/open") { _, response in try response.send("open") }
        router.group("/api") { api in
            api.get("/todos/:id") { request, response in
                trace.steps.append("todo")
                try response.send("todo \(try request.parameters.require("id", as: Int.self))")
            }
            api.group("admin") { admin in
                admin.delete("/todos/:id") { request, response in
                    trace.steps.append("delete")
                    try response.send("deleted \(request.parameters["id"]!) at \(request.route!)")
                }
                admin.use(Mark(name: "admin", trace: trace))
            }
            // Added after the routes: still wraps them (and the nested group's, outside its own).
            api.use(Mark(name: "api", trace: trace))
        }
        let client = try TestClient(router)
        #expect(client.get("/open").text == "open")
        #expect(trace.steps == ["router>", "<router"])
        trace.steps = []
        #expect(client.get("/api/todos/3").text == "todo 3")
        #expect(trace.steps == ["router>", "api>", "todo", "<api", "<router"])
        trace.steps = []
        #expect(client.delete("/api/admin/todos/4").text == "deleted 4 at /api/admin/todos/:id")
        #expect(trace.steps == ["router>", "api>", "admin>", "delete", "<admin", "<api", "<router"])
        trace.steps = []
        // 404 and 405 run the router's middleware only, and keep their answers.
        #expect(client.get("/todos/3").status == .notFound)
        let wrong = client.put("/api/admin/todos/4")
        #expect(wrong.status == .methodNotAllowed)
        #expect(wrong.headers[.allow] == "DELETE")
        #expect(trace.steps == ["router>", "<router", "router>", "<router"])
    }

    @Test func aGroupReturnedCanBeFilledLater() throws {
        let router = Router()
        let v1 = router.group("/v1/")
        #expect(v1.prefix == "/v1")
        v1.post("items") { _, response in try response.send("made", status: .created) }
        v1.use { request, response, next in
            try response.setHeader("X-Version", "1")
            try next(request, response)
        }
        let response = try TestClient(router).post("/v1/items")
        #expect(response.status == .created)
        #expect(response.headers[HTTPField.Name("X-Version")!] == "1")
        #expect(router.group("/").prefix == "/")
    }

    @Test func aRouteAddedAfterTheFirstRequestIsServed() throws {
        let router = Router()
        router.get("/a") { _, response in try response.send("a") }
        let client = try TestClient(router)
        #expect(client.get("/b").status == .notFound)
        router.get("/b") { _, response in try response.send("b") }
        #expect(client.get("/b").text == "b")
    }
}
