import FPMConfiguration
import FPMServer
import FPMSystem
import Testing

/// Which socket systemd passed goes to which pool.
@Suite struct SocketActivationTests {
    @Test func descriptorsAreOnlyForTheProcessLISTEN_PIDNames() {
        let env = ["LISTEN_PID": "42", "LISTEN_FDS": "2", "LISTEN_FDNAMES": "www:"]
        let fds = SocketActivation.descriptors(environment: env, pid: 42)
        #expect(fds.map(\.fd) == [3, 4])
        #expect(fds.map(\.name) == ["www", nil])
        #expect(SocketActivation.descriptors(environment: env, pid: 43).isEmpty)
        #expect(SocketActivation.descriptors(environment: ["LISTEN_PID": "42"], pid: 42).isEmpty)
        #expect(SocketActivation.descriptors(environment: ["LISTEN_PID": "42", "LISTEN_FDS": "x"], pid: 42).isEmpty)
    }

    @Test func addressesMatchTheListenDirective() {
        let loop4 = BoundAddress.inet(bytes: [127, 0, 0, 1], port: 9000)
        #expect(SocketActivation.matches(loop4, .tcp(host: "127.0.0.1", port: 9000)))
        #expect(!SocketActivation.matches(loop4, .tcp(host: "127.0.0.1", port: 9001)))
        #expect(!SocketActivation.matches(loop4, .tcp(host: "127.0.0.2", port: 9000)))
        #expect(SocketActivation.matches(loop4, .tcp(host: "localhost", port: 9000)))
        #expect(!SocketActivation.matches(loop4, .tcp(host: "", port: 9000)))
        let any6 = BoundAddress.inet(bytes: Array(repeating: 0, count: 16), port: 9000)
        #expect(SocketActivation.matches(any6, .tcp(host: "", port: 9000)))
        #expect(SocketActivation.matches(.inet(bytes: [0, 0, 0, 0], port: 9000), .tcp(host: "", port: 9000)))
        let loop6 = BoundAddress.inet(bytes: Array(repeating: 0, count: 15) + [1], port: 9000)
        #expect(SocketActivation.matches(loop6, .tcp(host: "::1", port: 9000)))
        #expect(SocketActivation.matches(.unix(path: "/run/www.sock"), .unix(path: "/run/www.sock")))
        #expect(!SocketActivation.matches(.unix(path: "/run/www.sock"), .tcp(host: "", port: 9000)))
    }

    @Test func byNameFirstThenByAddressTheRestUnused() {
        let passed = [
            SocketActivation.Passed(fd: 3, name: "api", address: .inet(bytes: [127, 0, 0, 1], port: 9000)),
            SocketActivation.Passed(fd: 4, name: nil, address: .inet(bytes: [127, 0, 0, 1], port: 9001)),
            SocketActivation.Passed(fd: 5, name: nil, address: .inet(bytes: [127, 0, 0, 1], port: 9999)),
            SocketActivation.Passed(fd: 6, name: "www", address: nil),
        ]
        let pools: [(name: String, listen: ListenAddress)] = [
            ("www", .tcp(host: "127.0.0.1", port: 9001)), ("api", .tcp(host: "127.0.0.1", port: 7000)),
            ("none", .unix(path: "/run/none.sock")),
        ]
        let (byPool, unused) = SocketActivation.assign(passed, pools: pools)
        #expect(byPool == ["api": 3, "www": 4])
        #expect(unused.map(\.fd).sorted() == [5, 6])
    }
}
