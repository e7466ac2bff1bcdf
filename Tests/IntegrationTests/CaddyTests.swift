import Foundation
import Testing

/// Caddy 2.6 passes a FastCGI answer's `Status:` line on to the client as a header: a Swift
/// app's 200 sends none (as php-cgi), so none shows; other codes show it, as php-fpm's do.
@Suite struct CaddyTests {
    @Test func a200ShowsNoStatusHeaderBehindCaddy() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        let caddy = try CaddyServer(upstream: "127.0.0.1:\(server.port)")
        let ok = try caddy.get("/setup")
        #expect(ok.status == 200)
        #expect(ok.text == "setups 1\n", "\(server.log)")
        #expect(ok.header("Status") == nil, "\(ok.headers)")
        let missing = try caddy.get("/status-code?code=404")
        #expect(missing.status == 404)
        #expect(missing.text == "status 404\n")
        // Caddy's own behaviour for every FastCGI server's non-200 answers (README notes it).
        #expect(missing.header("Status") == "404 Not Found", "\(missing.headers)")
    }
}
