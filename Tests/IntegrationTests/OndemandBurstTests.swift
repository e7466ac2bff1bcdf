import FastCGI
import FastCGIClient
import Foundation
import Testing

/// ondemand forks for the whole burst: as many workers as connections wait in the listen
/// queue (up to pm.max_children), in one step, so no connection of the burst waits a whole
/// request for a worker the master forks only after the first one took its connection.
@Suite(.serialized) struct OndemandBurstTests {
    /// Three 1 s requests at once into an empty pool of max 3: each gets its own worker at
    /// once (one worker per readiness event made the last one wait ~2 s).
    func burst(listen: String?, address: (FPMServer) -> String) throws {
        let server = try FPMServer(pools: """
        [www]
        listen = \(listen ?? "127.0.0.1:{{PORT}}")
        pm = ondemand
        pm.max_children = 3
        pm.process_idle_timeout = 30s
        handler = testapp
        """)
        #expect(server.workers.isEmpty)
        let target = address(server)
        let times = LatencyList()
        let statuses = ManagedCounter()
        onThreads(3) { i in
            let t0 = Date()
            do {
                let c = try FastCGIClient(connectingTo: FastCGIAddress(target)!, timeout: 10)
                defer { c.close() }
                let r = try c.request(params: TestSupport.params(uri: "/sleep?ms=1000&i=\(i)"))
                if r.status == 200 { statuses.add() }
            } catch {}
            times.add(Date().timeIntervalSince(t0))
        }
        let all = times.values.sorted()
        print("ondemand burst (\(target)): 3 x 1 s requests finished in s \(all.map { (($0 * 1000).rounded() / 1000) })")
        #expect(statuses.value == 3)
        #expect((all.last ?? 99) < 1.6, "\(all)")
        #expect(server.workers.count == 3)
    }

    @Test func threeSimultaneousRequestsOverTCPGetThreeWorkersAtOnce() throws {
        try burst(listen: nil) { "127.0.0.1:\($0.port)" }
    }

    @Test func threeSimultaneousRequestsOverAUnixSocketGetThreeWorkersAtOnce() throws {
        try burst(listen: "{{DIR}}/www.sock") { $0.dir + "/www.sock" }
    }
}
