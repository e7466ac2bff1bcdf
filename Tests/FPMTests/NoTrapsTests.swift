import FoundationEssentials
import FPM
import FPMTesting
import Testing

/// The small traps of #22: `require` without a type, JSON key order, the 200 `Status:` line.
@Suite struct NoTrapsTests {
    @Test func requireWithoutATypeIsAString() throws {
        let router = Router()
        router.get("/hello/:name") { request, response in
            let name = try request.parameters.require("name")
            let id: Int = try request.parameters.require("name")
            try response.send("\(name) \(id)\n")
        }
        router.get("/bye/:name") { request, response in
            try response.send("bye \(try request.parameters.require("name"))\n")
        }
        router.get("/missing") { request, response in try response.send(try request.parameters.require("nope")) }
        let client = try TestClient(router)
        #expect(client.get("/hello/7").text == "7 7\n")
        #expect(client.get("/hello/x").status == .badRequest, "the typed overload still converts")
        #expect(client.get("/bye/swift").text == "bye swift\n")
        let missing = client.get("/missing")
        #expect(missing.status == .internalServerError)
        #expect(missing.error == "the route has no parameter 'nope'")
    }

    struct Record: Encodable {
        var zebra = 1
        var apple = "a"
        var tags: [String: Int]
    }

    @Test func jsonKeysAreSortedWhateverTheDictionaryOrder() throws {
        // Two dictionaries with the same content built in opposite orders (and a different
        // capacity, so their storage order differs).
        var forward: [String: Int] = [:], backward = [String: Int](minimumCapacity: 64)
        let keys = (0..<40).map { "key\($0)" }
        for (i, key) in keys.enumerated() { forward[key] = i }
        for (i, key) in keys.enumerated().reversed() { backward[key] = i }
        let router = Router()
        router.get("/forward") { _, response in try response.json(Record(tags: forward)) }
        router.get("/backward") { _, response in try response.json(Record(tags: backward)) }
        router.get("/pretty") { _, response in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted]
            try response.json(["b": 1], encoder: encoder)
        }
        let client = try TestClient(router)
        let first = client.get("/forward").text
        #expect(first == client.get("/forward").text)
        #expect(first == client.get("/backward").text)
        #expect(first.hasPrefix(#"{"apple":"a","tags":{"key0":0,"key1":1,"key10":10,"#))
        #expect(first.hasSuffix(#""key9":9},"zebra":1}"# + "\n"))
        #expect(client.get("/pretty").text.contains("\n  \"b\" : 1"), "an encoder passed in is used")
        #expect(Response.defaultJSONEncoder.outputFormatting.contains(.sortedKeys))
    }

    @Test func a200HasNoStatusLineAndOtherCodesKeepIt() throws {
        let router = Router()
        router.get("/ok") { _, response in try response.send("ok\n") }
        router.get("/created") { _, response in try response.send("new\n", status: .created) }
        router.get("/moved") { _, response in try response.redirect(to: "/ok") }
        let client = try TestClient(router)
        let ok = client.get("/ok")
        #expect(!ok.text.isEmpty && ok.status == .ok)
        #expect(String(decoding: ok.output, as: UTF8.self).hasPrefix("Content-Type: text/plain; charset=utf-8\r\n"))
        #expect(String(decoding: client.get("/created").output, as: UTF8.self).hasPrefix("Status: 201 Created\r\n"))
        #expect(String(decoding: client.get("/moved").output, as: UTF8.self).hasPrefix("Status: 303 See Other\r\n"))
        #expect(String(decoding: client.get("/nowhere").output, as: UTF8.self).hasPrefix("Status: 404 Not Found\r\n"))
    }
}
