@testable import FPM
import FPMServer
import FastCGI
import Testing

/// The request helpers over the CGI params a web server sends.
@Suite struct RequestTests {
    func request(_ pairs: [(String, String)], body: [UInt8]? = nil) -> Request {
        Request(ServerRequest(params: FastCGIParams(pairs), body: body.map(Body.init)))
    }

    final class Body: RequestBodySource {
        var bytes: [UInt8]
        init(_ bytes: [UInt8]) { self.bytes = bytes }
        func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            let n = min(buffer.count, bytes.count, 3)  // small reads: a body arrives in pieces
            buffer.copyBytes(from: bytes.prefix(n))
            bytes.removeFirst(n)
            return n
        }
    }

    @Test func queryFirstValueAllValuesAndDecoding() {
        let r = request([("QUERY_STRING", "tag=a&name=J%C3%B6rg+B&tag=b&flag&empty=&t%61g=c")])
        #expect(r.query["name"] == "Jörg B")
        #expect(r.query["tag"] == "a")
        #expect(r.query.values(for: "tag") == ["a", "b", "c"])
        #expect(r.query["flag"] == "")
        #expect(r.query["empty"] == "")
        #expect(r.query["missing"] == nil)
        #expect(r.query.values(for: "missing").isEmpty)
        #expect(r.query.contains("flag"))
        #expect(r.query.map { $0.name } == ["tag", "name", "tag", "flag", "empty", "tag"])
        #expect(request([]).query.isEmpty)
    }

    @Test func methodFromREQUEST_METHOD() {
        #expect(request([("REQUEST_METHOD", "POST")]).method == .post)
        #expect(request([("REQUEST_METHOD", "PATCH")]).method == .patch)
        #expect(request([("REQUEST_METHOD", "PROPFIND")]).method.rawValue == "PROPFIND")
        #expect(request([]).method == .get)
    }

    @Test func headersByNameCookiesAndCGIParams() {
        let r = request([
            ("HTTP_ACCEPT_LANGUAGE", "de"), ("CONTENT_TYPE", "application/json"), ("CONTENT_LENGTH", "0"),
            ("HTTP_COOKIE", "a=1; session=\"x y\"; b=2=3"), ("REMOTE_ADDR", "10.0.0.7"), ("REMOTE_PORT", "5123"),
            ("SERVER_NAME", "example.test"), ("SERVER_PORT", "8443"), ("HTTPS", "on"), ("SERVER_PROTOCOL", "HTTP/1.1"),
        ])
        #expect(r.header("Accept-Language") == "de")
        #expect(r.header(.acceptLanguage) == "de")
        #expect(r.header(.contentType) == "application/json")
        #expect(r.header("x-missing") == nil)
        #expect(r.headers[.acceptLanguage] == "de")
        #expect(r.headers[.contentType] == "application/json")
        #expect(r.cookies["session"] == "x y")
        #expect(r.cookies["a"] == "1")
        #expect(r.cookies["b"] == "2=3")
        #expect(r.cookies["c"] == nil)
        #expect(r.remoteAddress == "10.0.0.7")
        #expect(r.remotePort == 5123)
        #expect(r.serverName == "example.test")
        #expect(r.serverPort == 8443)
        #expect(r.scheme == "https")
        #expect(r[param: "SERVER_PROTOCOL"] == "HTTP/1.1")
        #expect(request([("HTTPS", "off")]).scheme == "http")
    }

    @Test func bodyWithALimitAndStreamed() throws {
        let text = Array("hello, body".utf8)
        #expect(try request([], body: text).body() == text)
        #expect(try request([], body: text).text() == "hello, body")
        do {
            _ = try request([], body: text).body(limit: 4)
            Issue.record("a body over the limit was read")
        } catch let error as HTTPError {
            #expect(error.status == .contentTooLarge)
        }
        let streamed = request([], body: text)
        var chunk = [UInt8](repeating: 0, count: 4)
        var out: [UInt8] = []
        while case let n = try streamed.read(into: &chunk), n > 0 { out += chunk[0..<n] }
        #expect(out == text)
        #expect(streamed.bodyBytesRead == text.count)
    }

    @Test func urlEncodedForm() throws {
        let r = request([("CONTENT_TYPE", "application/x-www-form-urlencoded")], body: Array("name=Ann+Lee&msg=a%26b&msg=c".utf8))
        let form = try r.form()
        #expect(form["name"] == "Ann Lee")
        #expect(form.values(for: "msg") == ["a&b", "c"])
    }

    struct Todo: Codable, Equatable {
        var title: String
        var done: Bool
    }

    @Test func decodeJSON() throws {
        let r = request([], body: Array(#"{"title":"write tests","done":false}"#.utf8))
        #expect(try r.decode(Todo.self) == Todo(title: "write tests", done: false))
    }

    @Test("a malformed or mistyped JSON body is a 400 that says what is wrong", arguments: [
        (#"{"title": "x""#, "invalid JSON body: "),
        (#"{"done": true}"#, "the key 'title' is missing"),
        (#"{"title": 3, "done": true}"#, "expected String at 'title'"),
        (#"{"title": null, "done": true}"#, "at 'title', found null"),
    ])
    func decodeErrors(body: String, message: String) {
        do {
            _ = try request([], body: Array(body.utf8)).decode(Todo.self)
            Issue.record("decoded \(body)")
        } catch let error as HTTPError {
            #expect(error.status == .badRequest)
            #expect(error.message.hasPrefix("invalid JSON body: "))
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("not an HTTPError: \(error)")
        }
    }
}
