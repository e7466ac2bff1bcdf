import FastCGI
import Testing

@Suite("Addresses")
struct FastCGIAddressTests {
    @Test("php-fpm listen forms parse", arguments: [
        ("127.0.0.1:9000", FastCGIAddress.tcp("127.0.0.1", 9000)),
        ("[::1]:9000", .tcp("::1", 9000)),
        ("localhost:80", .tcp("localhost", 80)),
        ("9000", .tcp(nil, 9000)),
        ("*:9001", .tcp(nil, 9001)),
        ("/run/php/fpm.sock", .unix("/run/php/fpm.sock")),
        ("unix:/tmp/a.sock", .unix("/tmp/a.sock")),
        ("./rel.sock", .unix("./rel.sock")),
    ])
    func parses(text: String, expected: FastCGIAddress) {
        #expect(FastCGIAddress(text) == expected)
    }

    @Test("malformed addresses are rejected", arguments: ["", "abc", "1.2.3.4:", ":9000", "1.2.3.4:0", "1.2.3.4:65536",
                                                        "[::1]", "[::1]9000", "::1:9000", "unix:", "host:12a"])
    func rejects(text: String) {
        #expect(FastCGIAddress(text) == nil)
    }

    @Test("port-only addresses connect to loopback; descriptions round-trip")
    func connectHostAndDescription() {
        #expect(FastCGIAddress("9000")?.connectHost == "127.0.0.1")
        for text in ["127.0.0.1:9000", "[::1]:9000", "9000", "/run/x.sock"] {
            #expect(FastCGIAddress(text)?.description == text)
        }
    }
}
