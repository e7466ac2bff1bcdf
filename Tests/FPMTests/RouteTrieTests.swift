import FPM
import FPMTesting
import Testing

/// The router's tree keeps the list's rules: first added wins, HEAD → GET, `*`, 404 vs 405.
@Suite struct RouteTrieTests {
    /// 200 routes of the shapes an API has: literals, parameters, wildcards, shared prefixes.
    static func twoHundred(_ router: Router) {
        for resource in 0..<40 {
            router.get("/r\(resource)") { _, response in try response.send("list \(resource)") }
            router.post("/r\(resource)") { _, response in try response.send("create \(resource)") }
            router.get("/r\(resource)/:id") { request, response in
                try response.send("show \(resource) \(request.parameters["id"]!)")
            }
            router.get("/r\(resource)/:id/items/:item") { request, response in
                try response.send("item \(resource) \(request.parameters["id"]!) \(request.parameters["item"]!)")
            }
            router.get("/static/r\(resource)/*") { request, response in
                try response.send("file \(resource) \(request.parameters["*"]!)")
            }
        }
    }

    @Test func twoHundredRoutesAreAllReachableWithTheirParameters() throws {
        let router = Router()
        Self.twoHundred(router)
        let client = try TestClient(router)
        for resource in 0..<40 {
            #expect(client.get("/r\(resource)").text == "list \(resource)")
            #expect(client.post("/r\(resource)").text == "create \(resource)")
            #expect(client.get("/r\(resource)/id\(resource)").text == "show \(resource) id\(resource)")
            #expect(client.get("/r\(resource)/a/items/b\(resource)/").text == "item \(resource) a b\(resource)")
            #expect(client.get("/static/r\(resource)/css/x.css").text == "file \(resource) css/x.css")
        }
        #expect(client.get("/r40").status == .notFound)
        #expect(client.delete("/r3/1").headers[.allow] == "GET, HEAD")
    }

    @Test func theRouteAddedFirstWinsWhateverItsKind() throws {
        let router = Router()
        router.get("/users/:id") { request, response in try response.send("id \(request.parameters["id"]!)") }
        router.get("/users/me") { _, response in try response.send("me") }
        router.get("/pages/about") { _, response in try response.send("about") }
        router.get("/pages/:name") { request, response in try response.send("page \(request.parameters["name"]!)") }
        router.get("/a/*") { _, response in try response.send("rest") }
        router.get("/a/b") { _, response in try response.send("b") }
        router.get("/x/:p/y") { request, response in try response.send("param \(request.parameters["p"]!)") }
        router.get("/x/lit/:q") { request, response in try response.send("lit \(request.parameters["q"]!)") }
        let client = try TestClient(router)
        #expect(client.get("/users/me").text == "id me")
        #expect(client.get("/pages/about").text == "about")
        #expect(client.get("/pages/contact").text == "page contact")
        #expect(client.get("/a/b").text == "rest")
        #expect(client.get("/x/lit/y").text == "param lit")
        #expect(client.get("/x/lit/z").text == "lit z")
    }

    @Test func headPrefersAHeadRouteAddedLaterOverAGetOne() throws {
        let router = Router()
        router.get("/h") { _, response in try response.setHeader("X-From", "get") }
        router.on(.head, "/h") { _, response in try response.setHeader("X-From", "head") }
        router.get("/only-get/:x") { _, response in try response.setHeader("X-From", "get") }
        let client = try TestClient(router)
        #expect(client.head("/h").headers[HTTPField.Name("X-From")!] == "head")
        #expect(client.head("/only-get/1").headers[HTTPField.Name("X-From")!] == "get")
        #expect(client.put("/h").headers[.allow] == "GET, HEAD")
    }

    @Test func aWildcardTakesTheRestIncludingNothing() throws {
        let router = Router()
        router.get("/files/*") { request, response in try response.send("[\(request.parameters["*"]!)]") }
        router.get("/u/:id/*") { request, response in
            try response.send("\(request.parameters["id"]!) [\(request.parameters["*"]!)]")
        }
        let client = try TestClient(router)
        #expect(client.get("/files").text == "[]")
        #expect(client.get("/files/").text == "[]")
        #expect(client.get("//files//a//b/").text == "[a//b/]")
        #expect(client.get("/u/5/x/y").text == "5 [x/y]")
        #expect(client.get("/u/5").text == "5 []")
        #expect(client.get("/u").status == .notFound)
    }

    @Test func literalsAreComparedExactly() throws {
        let router = Router()
        router.get("/café/menu") { _, response in try response.send("menu") }
        router.get("/Case") { _, response in try response.send("case") }
        let client = try TestClient(router)
        #expect(client.get("/café/menu").text == "menu")
        #expect(client.get("/case").status == .notFound)
        #expect(client.get("/Case").text == "case")
    }
}
