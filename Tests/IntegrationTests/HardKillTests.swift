import FastCGI
import Foundation
import Glibc
import Testing

/// A worker's hard kill costs at most the request it was serving: the master keeps a duplicate
/// of every kept connection and offers a dead worker's idle ones to the pool again.
@Suite(.serialized) struct HardKillTests {
    /// `count` kept-alive connections, each with one request answered by the pool's only worker.
    static func keptConnections(_ server: FPMServer, count: Int) throws -> [FastCGIClient] {
        var clients: [FastCGIClient] = []
        for i in 0..<count {
            let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(server.port)")!, timeout: 10)
            let r = try c.request(params: TestSupport.params(uri: "/pid?c=\(i)"), keepConnection: true)
            #expect(r.status == 200)
            clients.append(c)
        }
        return clients
    }

    @Test func anIdleWorkersKeptConnectionsLiveOnAfterItsSIGKILL() throws {
        let server = try FPMServer(name: "hardkill-idle", pools: FPMServer.pool("pm.max_requests = 0", children: 1))
        #expect(server.waitForWorkers(1))
        let victim = try #require(ProcInfo.liveChildren(of: server.pid).first)
        let base = ProcInfo.descriptorCount(server.pid)
        let clients = try Self.keptConnections(server, count: 5)
        defer { clients.forEach { $0.close() } }
        // The master holds a copy of each (reported when it is first kept).
        #expect(TestSupport.waitUntil(timeout: 5) { ProcInfo.descriptorCount(server.pid) == base + 5 },
                "master descriptors: \(base) before, \(ProcInfo.descriptorCount(server.pid)) with 5 kept connections")
        kill(victim, SIGKILL)
        #expect(TestSupport.waitUntil(timeout: 10) {
            let live = ProcInfo.liveChildren(of: server.pid)
            return live.count == 1 && live[0] != victim
        })
        // Every kept connection is answered, by the replacement.
        for (i, c) in clients.enumerated() {
            let r = try c.request(params: TestSupport.params(uri: "/pid?again=\(i)"), keepConnection: true)
            #expect(r.status == 200 && r.bodyText.hasPrefix("pid ") && !r.bodyText.contains("\(victim)"), "connection \(i): \(r.status) \(r.bodyText)")
        }
        #expect(server.log.contains("child \(victim): offered its 5 idle kept connection(s)"))
        // Closed by the client, each copy is dropped: the master is back to its own descriptors.
        clients.forEach { $0.close() }
        #expect(TestSupport.waitUntil(timeout: 5) { ProcInfo.descriptorCount(server.pid) == base },
                "master descriptors: \(base) before, \(ProcInfo.descriptorCount(server.pid)) after the clients closed")
    }

    @Test func theConnectionABusyWorkerServedEndsAndItsIdleOnesLiveOn() throws {
        let server = try FPMServer(name: "hardkill-busy", pools: FPMServer.pool("pm.max_requests = 0", children: 1))
        #expect(server.waitForWorkers(1))
        let victim = try #require(ProcInfo.liveChildren(of: server.pid).first)
        let idle = try Self.keptConnections(server, count: 3)
        defer { idle.forEach { $0.close() } }
        // A kept connection (its first request answered) whose second request the worker is in
        // the middle of when it is killed.
        let outcome = LockedText()
        let port = server.port
        let cut = BackgroundTask {
            do {
                let busy = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 10)
                defer { busy.close() }
                _ = try busy.request(params: TestSupport.params(uri: "/pid"), keepConnection: true)
                let r = try busy.request(params: TestSupport.params(uri: "/sleep?ms=5000"), keepConnection: true)
                outcome.set("answered \(r.status)")
            } catch {
                outcome.set("cut")
            }
        }
        #expect(TestSupport.waitUntil(timeout: 5) { server.runningWorkers().contains(victim) })
        kill(victim, SIGKILL)
        #expect(cut.wait(timeout: 10))
        #expect(outcome.get() == "cut", "the served connection must end with its worker")
        for (i, c) in idle.enumerated() {
            let r = try c.request(params: TestSupport.params(uri: "/pid?again=\(i)"), keepConnection: true)
            #expect(r.status == 200, "idle connection \(i): \(r.status)")
        }
    }
}

final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func set(_ t: String) { lock.withLock { text = t } }
    func get() -> String { lock.withLock { text } }
}
