import FPMConfiguration
@testable import FPMServer
import FPMSystem
import Testing

/// The once-per-pool preparation's decisions: which pools prepare, what an ended preparation
/// means, and the child's input.
@Suite struct PoolPreparationTests {
    struct Preparing: RequestHandler {
        func handle(_ request: ServerRequest, _ response: ServerResponse) throws {}
        var preparesPool: Bool { true }
    }

    func configuration() throws -> FPMConfiguration {
        try ConfigurationLoader.load(text: """
        [global]
        [a]
        pm = static
        pm.max_children = 1
        listen = 127.0.0.1:19190
        handler = app
        [b]
        pm = static
        pm.max_children = 1
        listen = 127.0.0.1:19191
        handler = info
        [c]
        pm = static
        pm.max_children = 1
        listen = 127.0.0.1:19192
        exec = /bin/true
        [d]
        pm = static
        pm.max_children = 1
        listen = 127.0.0.1:19193
        handler = app
        """, path: nil, environment: [:], fileSystem: .isolated)
    }

    @Test func onlyPoolsWhoseHandlerPreparesAndNoExecPool() throws {
        let handlers: [String: any RequestHandler] = ["app": Preparing(), "info": InfoHandler()]
        #expect(PoolPreparation.pools(in: try configuration(), handlers: handlers).map(\.name) == ["a", "d"])
        #expect(PoolPreparation.pools(in: try configuration(), handlers: ["app": InfoHandler(), "info": InfoHandler()]).isEmpty)
    }

    @Test func outcomes() {
        #expect(PoolPreparation.outcome(pool: "www", status: .exited(code: 0), output: "migrated\n", timedOut: false) == .prepared)
        #expect(PoolPreparation.outcome(pool: "www", status: .exited(code: 1), output: "ERROR: no such table: x\n", timedOut: false)
                == .failed("[pool www] preparation failed (exited with code 1): no such table: x"))
        #expect(PoolPreparation.outcome(pool: "www", status: .signaled(signal: 11, coreDumped: false), output: "", timedOut: false)
                == .failed("[pool www] preparation failed (exited on signal 11 (SIGSEGV))"))
        #expect(PoolPreparation.outcome(pool: "www", status: .signaled(signal: 9, coreDumped: false), output: "a\nb\n", timedOut: true,
                                        deadlineNanos: 5_000_000_000)
                == .failed("[pool www] preparation did not finish within 5 s and was killed: a; b"))
        #expect(PoolPreparation.outcome(pool: "www", status: nil, output: "", timedOut: false)
                == .failed("[pool www] preparation could not be waited for"))
    }

    @Test func inputRoundTrips() {
        let text = "[global]\n[www]\nlisten = 9000\n"
        let encoded = PoolPreparation.encodeInput(path: "/etc/fpm.conf", text: text)
        #expect(PoolPreparation.decodeInput(encoded) == ("/etc/fpm.conf", text))
        let embedded = PoolPreparation.decodeInput(PoolPreparation.encodeInput(path: nil, text: text))
        #expect(embedded.path == nil && embedded.text == text)
    }
}
