import FPM
import FPMTesting
import FoundationEssentials
import HTTPTypes
import Testing

/// `setCookie` takes a checked name, value and typed attributes: request text can never add
/// attributes to a `Set-Cookie` or split it.
@Suite struct CookieTests {
    /// A router whose `/set` sets the cookie `user` from the form field `user`, with the
    /// attributes `configure` gives, and answers the refusal's text when it throws.
    static func client(_ set: @escaping @Sendable (Response, String) throws(CookieError) -> Void) throws -> TestClient {
        let router = Router()
        router.post("/set") { request, response in
            let form = try request.form()
            do throws(CookieError) {
                try set(response, form["user"] ?? "")
            } catch {
                try response.send("\(error.part): \(error.description)", status: .badRequest)
                return
            }
            try response.send("set")
        }
        return try TestClient(router)
    }

    static func setCookies(_ response: TestResponse) -> [String] {
        response.headers[values: .setCookie]
    }

    @Test("a value with attributes in it is refused, and no Set-Cookie is sent",
          arguments: ["x; Max-Age=0; Domain=evil.example", "x, y", "a b", "\"x", "x\\y", "x\r\nSet-Cookie: admin=1",
                      "x\u{0}", "x\u{7F}", "é"])
    func injectionIsRefused(value: String) throws {
        let client = try Self.client { response, user throws(CookieError) in try response.setCookie("user", user) }
        let response = client.post("/set", form: [("user", value)])
        #expect(response.status == .badRequest)
        #expect(response.text.hasPrefix("value: cookie 'user': the value"))
        #expect(Self.setCookies(response).isEmpty)
        #expect(!String(decoding: response.output, as: UTF8.self).contains("evil.example\r\n"))
    }

    @Test func anOrdinaryValueGetsTheDefaultAttributes() throws {
        let client = try Self.client { response, user throws(CookieError) in try response.setCookie("user", user) }
        let response = client.post("/set", form: [("user", "alice-42_~!#$%&'()*+-./:<=>?@[]^`{|}")])
        #expect(response.status == .ok)
        #expect(Self.setCookies(response) == ["user=alice-42_~!#$%&'()*+-./:<=>?@[]^`{|}; Path=/; HttpOnly"])
    }

    @Test func aQuotedValueAndAnEmptyOneAreCookieValues() throws {
        #expect(try Cookie("a", "\"quoted\"").headerValue() == "a=\"quoted\"; Path=/; HttpOnly")
        #expect(try Cookie("a", "", path: nil, httpOnly: false).headerValue() == "a=")
        #expect(throws: CookieError.self) { try Cookie("a", "\"in\"side\"").headerValue() }
    }

    @Test("a name that is not a token is refused", arguments: ["", "a b", "a=b", "a;b", "a,b", "(a)", "a\tb", "ä", "a\"b"])
    func badNames(name: String) throws {
        let client = try Self.client { response, user throws(CookieError) in try response.setCookie(name, user) }
        let response = client.post("/set", form: [("user", "x")])
        #expect(response.status == .badRequest)
        #expect(response.text.hasPrefix("name: "))
        #expect(response.text.contains("must be a token"))
        #expect(Self.setCookies(response).isEmpty)
    }

    @Test func everyAttributeIsRenderedInOrder() throws {
        let expires = Date(timeIntervalSince1970: 784_111_777)  // Sun, 06 Nov 1994 08:49:37 GMT
        let client = try Self.client { response, user throws(CookieError) in
            try response.setCookie("__Secure-sid", user, maxAge: 3600, expires: expires, domain: "example.com",
                                   path: "/app", secure: true, httpOnly: true, sameSite: .strict)
        }
        let response = client.post("/set", form: [("user", "abc")])
        #expect(response.status == .ok)
        #expect(Self.setCookies(response) == [
            "__Secure-sid=abc; Max-Age=3600; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=Strict"
        ])
    }

    @Test func eachAttributeAlone() throws {
        #expect(try Cookie("a", "1", maxAge: 0, path: nil, httpOnly: false).headerValue() == "a=1; Max-Age=0")
        #expect(try Cookie("a", "1", path: nil, httpOnly: false, sameSite: .lax).headerValue() == "a=1; SameSite=Lax")
        #expect(try Cookie("a", "1", path: nil, secure: true, httpOnly: false, sameSite: .crossSite).headerValue()
                == "a=1; Secure; SameSite=None")
        #expect(try Cookie("a", "1", domain: ".Sub-1.example.org", path: nil, httpOnly: false).headerValue()
                == "a=1; Domain=.Sub-1.example.org")
        #expect(try Cookie("a", "1", path: "/x/y,z", httpOnly: false).headerValue() == "a=1; Path=/x/y,z")
        #expect(try Cookie("__Host-a", "1", secure: true).headerValue() == "__Host-a=1; Path=/; Secure; HttpOnly")
    }

    @Test func httpDatesAcrossTheCalendar() throws {
        func expires(_ seconds: Double) throws -> String {
            try Cookie("a", "1", expires: Date(timeIntervalSince1970: seconds), path: nil, httpOnly: false).headerValue()
        }
        #expect(try expires(0) == "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(try expires(951_782_400) == "a=1; Expires=Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(try expires(4_102_444_799) == "a=1; Expires=Thu, 31 Dec 2099 23:59:59 GMT")
        #expect(try expires(-1) == "a=1; Expires=Wed, 31 Dec 1969 23:59:59 GMT")
        #expect(try expires(-11_644_473_600) == "a=1; Expires=Mon, 01 Jan 1601 00:00:00 GMT")
        #expect(throws: CookieError.self) { try expires(-11_644_473_601) }
        #expect(throws: CookieError.self) { try expires(253_402_300_800) }  // year 10000
    }

    @Test("bad attributes are refused, naming the attribute", arguments: [
        (Cookie("a", "1", maxAge: -1), "Max-Age"),
        (Cookie("a", "1", domain: "evil.example; Secure"), "Domain"),
        (Cookie("a", "1", domain: "a..b"), "Domain"),
        (Cookie("a", "1", domain: ""), "Domain"),
        (Cookie("a", "1", domain: "ex\u{0}ample.com"), "Domain"),
        (Cookie("a", "1", path: "/x; Domain=evil.example"), "Path"),
        (Cookie("a", "1", path: "/x\r\ny"), "Path"),
        (Cookie("a", "1", path: "x"), "Path"),
        (Cookie("a", "1", path: "/é"), "Path"),
        (Cookie("a", "1", sameSite: .crossSite), "SameSite"),
        (Cookie("__Secure-a", "1"), "Secure"),
        (Cookie("__Host-a", "1", domain: "example.com", secure: true), "Domain"),
        (Cookie("__Host-a", "1", path: "/app", secure: true), "Domain"),
    ])
    func badAttributes(cookie: Cookie, part: String) throws {
        let client = try Self.client { response, _ throws(CookieError) in try response.setCookie(cookie) }
        let response = client.post("/set", form: [("user", "x")])
        #expect(response.status == .badRequest)
        #expect(response.text.hasPrefix("\(part): cookie '\(cookie.name)': "), "\(response.text)")
        #expect(!response.text.contains("\r") && !response.text.contains("\u{0}"))
        #expect(Self.setCookies(response).isEmpty)
    }

    @Test func deleteCookieExpiresIt() throws {
        let client = try Self.client { response, _ throws(CookieError) in try response.deleteCookie("sid", path: "/app") }
        #expect(Self.setCookies(client.post("/set", form: [("user", "x")])) == ["sid=; Max-Age=0; Path=/app"])
    }

    @Test func theErrorSaysWhatIsWrong() {
        do {
            try Cookie("user", "x; Max-Age=0; Domain=evil.example").headerValue()
            Issue.record("accepted")
        } catch {
            #expect(error.cookie == "user")
            #expect(error.part == "value")
            #expect(error.description == "cookie 'user': the value 'x; Max-Age=0; Domain=evil.example' may hold only printable ASCII other than space, '\"', ',', ';' and '\\' (encode it first)")
        }
    }
}
