import FastCGI
import Foundation
import Testing

/// Keep-alive behind a real nginx (`keepalive` + `fastcgi_keep_conn on`): a request on a kept
/// connection parked in a busy worker does not wait behind that worker's request while a
/// sibling is idle.
@Suite(.serialized) struct KeepAlivePerformanceTests {
    /// The head-of-line trial: nginx holds 8 kept connections spread over 2 workers; one
    /// worker serves a 3 s request; fast requests on every other kept connection (some of them
    /// parked in the busy worker) are all answered by the idle sibling at once.
    @Test func aFastRequestOnAKeptConnectionDoesNotWaitBehindASlowOne() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 2))
        #expect(server.waitForWorkers(2))
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 8)
        let port = nginx.port
        // Eight at once: nginx has none cached yet, so it opens eight and then caches them all;
        // both workers end up with several parked. 5 ms each: below the slow-request
        // threshold, so no hand-off happens before the trial.
        let warm = ManagedCounter()
        onThreads(8) { i in
            if let r = try? HTTPClient.request(port: port, method: "GET", path: "/sleep?ms=5&w=\(i)", body: [], headers: []),
               r.status == 200 { warm.add() }
        }
        #expect(warm.value == 8)

        let slowDone = DispatchSemaphore(value: 0)
        let slowStatus = ManagedCounter()
        Thread.detachNewThread {
            if let r = try? HTTPClient.request(port: port, method: "GET", path: "/sleep?ms=3000", body: [], headers: []) {
                slowStatus.add(r.status)
            }
            slowDone.signal()
        }
        #expect(server.waitUntilActive(1))
        let slowStarted = Date()

        // Every other cached connection at once: nginx takes each from its cache.
        let latencies = LatencyList()
        onThreads(7) { i in
            let t0 = Date()
            let r = try? HTTPClient.request(port: port, method: "GET", path: "/pid?f=\(i)", body: [], headers: [])
            latencies.add(r?.status == 200 ? Date().timeIntervalSince(t0) : 99)
        }
        let elapsedSinceSlow = Date().timeIntervalSince(slowStarted)
        slowDone.wait()
        #expect(slowStatus.value == 200)
        let all = latencies.values.sorted()
        print("head-of-line trial: fast answers in ms \(all.map { Int(($0 * 1000).rounded()) }), all within \(Int(elapsedSinceSlow * 1000)) ms of the slow request's start")
        // The wait the old design had: 2.7-3 s behind the slow request. The target is 50 ms;
        // the bound leaves room for a loaded machine, and is far below the 3 s wait.
        #expect(all.last ?? 99 < 0.5, "\(all)")
        #expect(all[all.count / 2] < 0.05, "\(all)")
        // The busy worker did pass kept connections on (the trial exercised the case): only the
        // 3 s request is slow enough for that.
        #expect(server.waitForLog("idle kept connection(s) on during a slow request", timeout: 5), "\(server.log)")
    }
}

/// Runs `body` on `n` threads at once (concurrentPerform runs only as many as there are
/// cores) and waits for all of them.
func onThreads(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchSemaphore(value: 0)
    for i in 0..<n { Thread.detachNewThread { body(i); done.signal() } }
    for _ in 0..<n { done.wait() }
}

final class LatencyList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Double] = []
    func add(_ v: Double) { lock.lock(); list.append(v); lock.unlock() }
    var values: [Double] { lock.lock(); defer { lock.unlock() }; return list }
}
