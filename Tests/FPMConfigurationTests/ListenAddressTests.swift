import Foundation
import FPMConfiguration
import Testing

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("9000", ListenAddress.tcp(host: "", port: 9000)),
        ("127.0.0.1:9000", .tcp(host: "127.0.0.1", port: 9000)),
        ("[::1]:9000", .tcp(host: "::1", port: 9000)),
        ("::1:9000", .tcp(host: "::1", port: 9000)),
        ("/run/fpm.sock", .unix(path: "/run/fpm.sock")),
        ("fpm.sock", .unix(path: "fpm.sock")),
    ])
    func parsesPHPFPMForms(_ text: String, _ expected: ListenAddress) throws {
        #expect(try ListenAddress.parse(text) == expected)
    }

    @Test func descriptionGivesBackTheConfigString() {
        #expect(ListenAddress.tcp(host: "", port: 9000).description == "9000")
        #expect(ListenAddress.tcp(host: "::1", port: 9000).description == "[::1]:9000")
        #expect(ListenAddress.tcp(host: "127.0.0.1", port: 9000).description == "127.0.0.1:9000")
        #expect(ListenAddress.unix(path: "/run/a.sock").description == "/run/a.sock")
    }

    @Test func relativeUnixPathsResolveAgainstPoolPrefixThenGlobalPrefix() throws {
        let text = minimalPool.replacingFirst("listen = 127.0.0.1:9000", with: "listen = run/www.sock")
        #expect(try load(text, prefix: "/srv").pools[0].listen == .unix(path: "/srv/run/www.sock"))
        #expect(try load(text + "prefix = /opt/app\n", prefix: "/srv").pools[0].listen == .unix(path: "/opt/app/run/www.sock"))
        #expect(try load(text + "prefix = app\n", prefix: "/srv").pools[0].listen == .unix(path: "/srv/app/run/www.sock"))
    }
}

extension String {
    func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = range(of: target) else { return self }
        return replacingCharacters(in: range, with: replacement)
    }
}
