import FastCGI
import FastCGIClient
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

    /// The worker closes a kept connection (here: malformed input) while the master holds a
    /// copy: it shuts the connection down first, so the client sees the end at once.
    @Test func aConnectionTheWorkerClosesEndsForItsClientDespiteTheMastersCopy() throws {
        let server = try FPMServer(name: "hardkill-close", pools: FPMServer.pool("pm.max_requests = 0", children: 1))
        #expect(server.waitForWorkers(1))
        let base = ProcInfo.descriptorCount(server.pid)
        let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(server.port)")!, timeout: 10)
        defer { c.close() }
        #expect(try c.request(params: TestSupport.params(uri: "/pid"), keepConnection: true).status == 200)
        #expect(TestSupport.waitUntil(timeout: 5) { ProcInfo.descriptorCount(server.pid) == base + 1 }, "the master's copy")
        let sent = Date()
        try c.sendRaw([9, 1, 0, 1, 0, 0, 0, 0])  // FastCGI version 9: the worker closes the connection
        var ended = false
        do { ended = try c.readRecord() == nil } catch { ended = "\(error)".contains("closed") }
        let waited = Date().timeIntervalSince(sent)
        #expect(ended && waited < 5, "the client saw the end after \(waited) s (ended: \(ended))")
        #expect(TestSupport.waitUntil(timeout: 5) { ProcInfo.descriptorCount(server.pid) == base }, "the master's copy is dropped")
    }

    /// A worker reaching pm.max_requests hands its kept connections on, as before; the master
    /// follows them (its copies move to the adopter) and keeps none once the clients close.
    @Test func aRetiringWorkersKeptConnectionsMoveOnAndTheMastersCopiesFollow() throws {
        let server = try FPMServer(name: "hardkill-retire", pools: FPMServer.pool("pm.max_requests = 6", children: 1))
        #expect(server.waitForWorkers(1))
        let first = try #require(ProcInfo.liveChildren(of: server.pid).first)
        let base = ProcInfo.descriptorCount(server.pid)
        let clients = try Self.keptConnections(server, count: 3)
        // Three more requests: the worker retires after the sixth.
        for (i, c) in clients.enumerated() {
            #expect(try c.request(params: TestSupport.params(uri: "/pid?second=\(i)"), keepConnection: true).status == 200)
        }
        #expect(TestSupport.waitUntil(timeout: 10) { TestSupport.isZombieOrGone(first) && ProcInfo.liveChildren(of: server.pid).count == 1 })
        for (i, c) in clients.enumerated() {
            let r = try c.request(params: TestSupport.params(uri: "/pid?third=\(i)"), keepConnection: true)
            #expect(r.status == 200 && !r.bodyText.contains("\(first)"), "connection \(i): \(r.status) \(r.bodyText)")
        }
        #expect(TestSupport.waitUntil(timeout: 5) { ProcInfo.descriptorCount(server.pid) == base + 3 },
                "master descriptors: \(base) before, \(ProcInfo.descriptorCount(server.pid)) with 3 adopted connections")
        clients.forEach { $0.close() }
        #expect(TestSupport.waitUntil(timeout: 5) { ProcInfo.descriptorCount(server.pid) == base },
                "master descriptors: \(base) before, \(ProcInfo.descriptorCount(server.pid)) after the clients closed")
    }

    /// A slow request passes its worker's idle kept connections to the hand-off socket (they
    /// become the sibling's); killed during that request, the worker's end must not offer them
    /// again (two workers would read one connection).
    @Test func connectionsHandedOnDuringASlowRequestAreNotOfferedAgainWhenTheirFormerWorkerDies() throws {
        let server = try FPMServer(name: "hardkill-slow", pools: FPMServer.pool("""
            pm.start_servers = 1
            pm.min_spare_servers = 1
            pm.max_spare_servers = 1
            pm.max_requests = 0
            """, pm: "dynamic", children: 2))
        #expect(server.waitForWorkers(1))
        let victim = try #require(ProcInfo.liveChildren(of: server.pid).first)
        let idle = try Self.keptConnections(server, count: 3)
        defer { idle.forEach { $0.close() } }
        let port = server.port
        let cut = BackgroundTask {
            guard let busy = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 10) else { return }
            defer { busy.close() }
            _ = try? busy.request(params: TestSupport.params(uri: "/sleep?ms=8000"), keepConnection: true)
        }
        // Busy, the only worker hands its idle connections on; the process manager starts a
        // spare, which adopts them.
        #expect(TestSupport.waitUntil(timeout: 10) { ProcInfo.liveChildren(of: server.pid).count == 2 && server.runningWorkers() == [victim] })
        kill(victim, SIGKILL)
        #expect(cut.wait(timeout: 10))
        for round in 0..<3 {
            for (i, c) in idle.enumerated() {
                let r = try c.request(params: TestSupport.params(uri: "/pid?round=\(round)&c=\(i)"), keepConnection: true)
                #expect(r.status == 200 && !r.bodyText.contains("\(victim)"), "round \(round), connection \(i): \(r.status) \(r.bodyText)")
            }
        }
        #expect(!server.log.contains("child \(victim): offered"), "handed-on connections offered again: \(server.log)")
    }

    /// The master keeps copies for at most half its RLIMIT_NOFILE: beyond that a connection is
    /// served as before but not copied (said once in the log), and a kill loses only those.
    @Test func theMastersCopiesAreBoundedByItsDescriptorLimit() throws {
        // The master starts with a soft limit of 40 (20 copies); the worker raises its own.
        let dir = TestSupport.makeTempDirectory("hardkill-wrapper")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wrapper = dir + "/fpm-40"
        TestSupport.write(wrapper, "#!/bin/sh\nulimit -Sn 40\nexec '\(TestSupport.testAppPath)' \"$@\"\n")
        chmod(wrapper, 0o755)
        let server = try FPMServer(name: "hardkill-limit", pools: FPMServer.pool("pm.max_requests = 0\nrlimit_files = 1024", children: 1),
                                   binary: wrapper)
        #expect(server.waitForWorkers(1))
        let victim = try #require(ProcInfo.liveChildren(of: server.pid).first)
        let base = ProcInfo.descriptorCount(server.pid)
        let clients = try Self.keptConnections(server, count: 30)
        defer { clients.forEach { $0.close() } }
        #expect(TestSupport.waitUntil(timeout: 5) { ProcInfo.descriptorCount(server.pid) == base + 20 },
                "master descriptors: \(base) before, \(ProcInfo.descriptorCount(server.pid)) with 30 kept connections")
        #expect(server.waitForLog("more than 20 kept connections"))
        for (i, c) in clients.enumerated() {
            #expect(try c.request(params: TestSupport.params(uri: "/pid?again=\(i)"), keepConnection: true).status == 200)
        }
        kill(victim, SIGKILL)
        #expect(server.waitForLog("child \(victim): offered its 20 idle kept connection(s)"))
        var answered = 0
        for (i, c) in clients.enumerated() {
            if let r = try? c.request(params: TestSupport.params(uri: "/pid?after=\(i)"), keepConnection: true), r.status == 200 { answered += 1 }
        }
        #expect(answered == 20, "\(answered) of 30 kept connections answered after the kill")
        #expect(server.log.components(separatedBy: "more than 20 kept connections").count == 2, "said once")
    }
}

final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    func set(_ t: String) { lock.withLock { text = t } }
    func get() -> String { lock.withLock { text } }
}
