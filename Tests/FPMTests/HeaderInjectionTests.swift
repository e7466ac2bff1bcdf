@testable import FPM
import FPMServer
import Testing

/// A header value taken from user input must not split the CGI head nginx parses.
@Suite struct HeaderInjectionTests {
    func response() -> (Response, BufferResponseSink) {
        let sink = BufferResponseSink()
        return (Response(ServerResponse(sink: sink)), sink)
    }

    @Test("a value with CR, LF or NUL is refused by setHeader, naming the header",
          arguments: ["/next\r\nSet-Cookie: admin=1", "a\nb", "a\rb", "a\u{0}b"])
    func controlCharactersInSetHeader(value: String) {
        let (r, _) = response()
        #expect(throws: HeaderError.self) { try r.setHeader("Location", value) }
        do { try r.setHeader("Location", value) } catch {
            #expect(error.name == "Location")
            #expect(error.description.contains("'Location'") && error.description.contains("CR, LF or NUL"))
        }
        #expect(r.header("Location") == nil)
    }

    @Test("a value with CR or LF is refused by addHeader", arguments: ["id=1\r\nX-Evil: 1", "id=1\n"])
    func controlCharactersInAddHeader(value: String) {
        let (r, _) = response()
        #expect(throws: HeaderError.self) { try r.addHeader("Set-Cookie", value) }
        #expect(r.header("Set-Cookie") == nil)
    }

    @Test("a name that is not a token is refused", arguments: ["", "X Name", "X:Y", "X\r\nY", "Ä", "(x)"])
    func nonTokenNames(name: String) {
        let (r, _) = response()
        #expect(throws: HeaderError.self) { try r.setHeader(name, "v") }
        #expect(throws: HeaderError.self) { try r.addHeader(name, "v") }
    }

    @Test("token names and ordinary values (tabs, UTF-8) are accepted and sent")
    func goodHeaders() throws {
        let (r, sink) = response()
        try r.setHeader("X-Custom_1.a!#$%&'*+^`|~", "a\tb ünï")
        try r.addHeader("Set-Cookie", "a=1; Path=/")
        try r.write("x")
        let text = String(decoding: sink.output, as: UTF8.self)
        #expect(text.contains("X-Custom_1.a!#$%&'*+^`|~: a\tb ünï\r\n"))
        #expect(text.contains("Set-Cookie: a=1; Path=/\r\n"))
    }

    @Test("a contentType with CR/LF is not set (a setter cannot throw)")
    func contentTypeSetter() {
        let (r, _) = response()
        r.contentType = "text/html\r\nX-Evil: 1"
        #expect(r.contentType == nil)
        r.contentType = "text/html"
        #expect(r.contentType == "text/html")
    }
}
