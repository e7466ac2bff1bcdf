@testable import FPMServer
import FPMSystem
import Testing

/// The master's bookkeeping of kept-connection duplicates: which it watches, drops, shuts down
/// or re-offers, from the workers' reports and their ends.
@Suite struct KeptConnectionRegistryTests {
    let peer = PeerAddress(family: .ipv4, bytes: [127, 0, 0, 1], port: 4000)

    @Test func aKeptConnectionIsWatchedUntilItHangsUp() {
        var registry = KeptConnectionRegistry(capacity: 10)
        #expect(registry.kept(owner: 100, workerFD: 7, connection: 50, peer: peer, pool: "www") == [.watch(50)])
        #expect(registry.count == 1)
        #expect(registry.hungUp(50) == [.close(50)])
        #expect(registry.count == 0)
        #expect(registry.hungUp(50) == [], "a second event of the same descriptor changes nothing")
        #expect(registry.workerEnded(owner: 100, serving: nil, reoffer: true) == [])
    }

    @Test func aDeadWorkersServedConnectionIsShutDownAndItsIdleOnesReoffered() {
        var registry = KeptConnectionRegistry(capacity: 10)
        _ = registry.kept(owner: 100, workerFD: 7, connection: 50, peer: peer, pool: "www")
        _ = registry.kept(owner: 100, workerFD: 8, connection: 51, peer: peer, pool: "www")
        _ = registry.kept(owner: 100, workerFD: 9, connection: 52, peer: peer, pool: "www")
        _ = registry.kept(owner: 200, workerFD: 7, connection: 53, peer: peer, pool: "www")
        #expect(registry.workerEnded(owner: 100, serving: 8, reoffer: true) == [
            .reoffer(50, peer: peer, pool: "www"), .shutDown(51), .reoffer(52, peer: peer, pool: "www"),
        ])
        #expect(registry.count == 1, "the sibling's connection stays")
        #expect(registry.workerEnded(owner: 200, serving: nil, reoffer: true) == [.reoffer(53, peer: peer, pool: "www")])
    }

    @Test func anUntrustedEndOnlyClosesTheDuplicates() {
        var registry = KeptConnectionRegistry(capacity: 10)
        _ = registry.kept(owner: 100, workerFD: 7, connection: 50, peer: peer, pool: "www")
        _ = registry.kept(owner: 100, workerFD: 8, connection: 51, peer: peer, pool: "www")
        #expect(registry.workerEnded(owner: 100, serving: nil, reoffer: false) == [.close(50), .close(51)])
    }

    @Test func aHandedOnConnectionIsNotOfferedAgainWhenItsFormerOwnerDies() {
        var registry = KeptConnectionRegistry(capacity: 10)
        _ = registry.kept(owner: 100, workerFD: 7, connection: 50, peer: peer, pool: "www")
        _ = registry.kept(owner: 100, workerFD: 8, connection: 51, peer: peer, pool: "www")
        #expect(registry.handedOn(owner: 100, workerFD: 7) == [.close(50)])
        // The adopter's report, with its own copy.
        #expect(registry.kept(owner: 200, workerFD: 12, connection: 60, peer: peer, pool: "www") == [.watch(60)])
        #expect(registry.workerEnded(owner: 100, serving: nil, reoffer: true) == [.reoffer(51, peer: peer, pool: "www")])
        #expect(registry.workerEnded(owner: 200, serving: 12, reoffer: true) == [.shutDown(60)])
    }

    @Test func theAdoptersReportMayComeBeforeTheHandOffReport() {
        var registry = KeptConnectionRegistry(capacity: 10)
        _ = registry.kept(owner: 100, workerFD: 7, connection: 50, peer: peer, pool: "www")
        _ = registry.kept(owner: 200, workerFD: 12, connection: 60, peer: peer, pool: "www")
        #expect(registry.handedOn(owner: 100, workerFD: 7) == [.close(50)])
        #expect(registry.handedOn(owner: 100, workerFD: 7) == [], "unknown: nothing")
        #expect(registry.workerEnded(owner: 100, serving: 7, reoffer: true) == [])
        #expect(registry.count == 1)
    }

    @Test func aReusedDescriptorNumberReplacesTheStaleEntry() {
        var registry = KeptConnectionRegistry(capacity: 10)
        _ = registry.kept(owner: 100, workerFD: 7, connection: 50, peer: peer, pool: "www")
        // The worker shut 7 down and closed it; its hang-up is not read yet; 7 is reused.
        #expect(registry.kept(owner: 100, workerFD: 7, connection: 51, peer: peer, pool: "www") == [.close(50), .watch(51)])
        #expect(registry.hungUp(50) == [])
        #expect(registry.workerEnded(owner: 100, serving: 7, reoffer: true) == [.shutDown(51)])
    }

    @Test func beyondTheCapacityCopiesAreRefusedAndCounted() {
        var registry = KeptConnectionRegistry(capacity: 2)
        _ = registry.kept(owner: 100, workerFD: 7, connection: 50, peer: peer, pool: "www")
        _ = registry.kept(owner: 100, workerFD: 8, connection: 51, peer: peer, pool: "www")
        #expect(registry.kept(owner: 100, workerFD: 9, connection: 52, peer: peer, pool: "www") == [.refuse(52)])
        #expect(registry.refusals == 1)
        #expect(registry.workerEnded(owner: 100, serving: 9, reoffer: true) == [
            .reoffer(50, peer: peer, pool: "www"), .reoffer(51, peer: peer, pool: "www"),
        ], "the refused one is not known: it dies with its worker, as before")
        #expect(KeptConnectionRegistry(capacity: -5).capacity == 0)
    }

    /// The wire format over a real socketpair: kept_handoff.c encodes, Swift decodes.
    @Test func reportsCrossTheControlChannelWithTheConnection() throws {
        let (master, worker) = try FileIO.socketPair()
        defer { FileIO.close(master); FileIO.close(worker) }
        let pipe = try FileIO.pipe()
        defer { FileIO.close(pipe.read); FileIO.close(pipe.write) }
        let v6 = PeerAddress(family: .ipv6, bytes: Array(1...16), port: 65000)
        #expect(WorkerReport.receive(from: master) == .none)
        #expect(WorkerReport.sendKept(pipe.write, peer: v6, over: worker))
        #expect(WorkerReport.sendHandedOn(pipe.write, over: worker))
        guard case .report(.kept(let fd, let gotPeer, let copy)) = WorkerReport.receive(from: master) else {
            Issue.record("expected a kept report"); return
        }
        defer { FileIO.close(copy) }
        #expect(fd == pipe.write && gotPeer == v6 && copy != pipe.write)
        #expect(try WorkerMessageTests.proveSameFile(copy, as: pipe))
        #expect(WorkerReport.receive(from: master) == .report(.handedOn(workerFD: pipe.write)))
        #expect(WorkerReport.receive(from: master) == .none)
        FileIO.close(worker)
        #expect(WorkerReport.receive(from: master) == .closed)
    }
}
