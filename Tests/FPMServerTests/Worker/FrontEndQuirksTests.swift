@testable import FPMServer
import FastCGI
import Testing

@Suite struct FrontEndQuirksTests {
    func path(_ value: String) -> String? {
        FrontEndQuirks.pathOfProxyURL(Array(value.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    @Test func theProxyURLsApacheSendsBecomePaths() {
        // SetHandler "proxy:fcgi://127.0.0.1:9003" inside <FilesMatch>.
        #expect(path("proxy:fcgi://127.0.0.1:9003/srv/www/hello.sh") == "/srv/www/hello.sh")
        // ProxyPass "/app/" "fcgi://127.0.0.1:9003/": the path after the backend's own prefix.
        #expect(path("proxy:fcgi://127.0.0.1:9003/echo/x") == "/echo/x")
        // A unix socket: unix:/path|fcgi://localhost/ arrives as proxy:fcgi://localhost/….
        #expect(path("proxy:fcgi://localhost/srv/www/index.php") == "/srv/www/index.php")
        #expect(path("proxy:balancer://cluster/srv/www/index.php") == "/srv/www/index.php")
        #expect(path("proxy:fcgi://[::1]:9000/a") == "/a")
        // The scheme is matched without regard to case.
        #expect(path("PROXY:FCGI://host/a/b") == "/a/b")
        #expect(path("Proxy:Balancer://b/x") == "/x")
    }

    @Test func aQueryLeftByARewriteRuleIsDropped() {
        #expect(path("proxy:fcgi://localhost:9000/some-dir/info.php/test?foo=bar") == "/some-dir/info.php/test")
        #expect(path("proxy:fcgi://h/a?") == "/a")
        // With no path after the authority php-fpm keeps the value, and still cuts the query.
        #expect(path("proxy:fcgi://host:9000") == "proxy:fcgi://host:9000")
        #expect(path("proxy:fcgi://host:9000?x=1") == "proxy:fcgi://host:9000")
        #expect(path("proxy:fcgi://") == "proxy:fcgi://")
    }

    @Test func otherValuesAreNotProxyURLs() {
        #expect(path("/srv/www/hello.sh") == nil)
        #expect(path("/srv/proxy:fcgi://x/y") == nil)
        #expect(path("proxy:http://host/a") == nil)
        #expect(path("proxy:fcgi:/host/a") == nil)
        #expect(path("proxy:fcg") == nil)
        #expect(path("") == nil)
    }

    @Test func paramsWithoutAProxyURLAreReturnedAsTheyAre() {
        let params = FastCGIParams([("SCRIPT_FILENAME", "/srv/a.sh"), ("SCRIPT_NAME", "/a.sh"), ("PATH_TRANSLATED", "/srv/x")])
        let out = FrontEndQuirks.normalized(params)
        #expect(out == params)
        #expect(FrontEndQuirks.normalized(FastCGIParams()) == FastCGIParams())
    }

    @Test func onlyScriptFilenameAndPathTranslatedAreRewrittenInPlace() {
        let params = FastCGIParams([
            ("GATEWAY_INTERFACE", "CGI/1.1"),
            ("SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:9003/srv/www/hello.sh"),
            ("SCRIPT_NAME", "/hello.sh"),
            ("PATH_INFO", "/extra"),
            ("PATH_TRANSLATED", "proxy:fcgi://127.0.0.1:9003/srv/www/extra"),
            ("REQUEST_URI", "proxy:fcgi://not/a/file"),
            ("EMPTY", ""),
        ])
        let out = FrontEndQuirks.normalized(params)
        #expect(out.map { $0.name } == params.map { $0.name })
        #expect(out["SCRIPT_FILENAME"] == "/srv/www/hello.sh")
        #expect(out["PATH_TRANSLATED"] == "/srv/www/extra")
        #expect(out["SCRIPT_NAME"] == "/hello.sh")
        #expect(out["PATH_INFO"] == "/extra")
        #expect(out["REQUEST_URI"] == "proxy:fcgi://not/a/file")
        #expect(out["EMPTY"] == "")
        #expect(out["GATEWAY_INTERFACE"] == "CGI/1.1")
    }

    @Test func aProxyURLInPathTranslatedAloneIsRewrittenToo() {
        let params = FastCGIParams([("SCRIPT_FILENAME", "/srv/a"), ("PATH_TRANSLATED", "proxy:balancer://b/srv/b")])
        let out = FrontEndQuirks.normalized(params)
        #expect(out["SCRIPT_FILENAME"] == "/srv/a")
        #expect(out["PATH_TRANSLATED"] == "/srv/b")
    }

    @Test func everyOccurrenceOfARepeatedNameIsRewritten() {
        // Lookups take the last occurrence; iteration sees them all: neither shows a proxy URL.
        let params = FastCGIParams([("SCRIPT_FILENAME", "proxy:fcgi://h/one"), ("SCRIPT_FILENAME", "proxy:fcgi://h/two")])
        let out = FrontEndQuirks.normalized(params)
        #expect(out["SCRIPT_FILENAME"] == "/two")
        #expect(out.filter { $0.name == "SCRIPT_FILENAME" }.map { $0.value } == ["/one", "/two"])
    }
}
