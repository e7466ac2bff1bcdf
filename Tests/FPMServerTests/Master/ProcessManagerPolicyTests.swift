@testable import FPMServer
import FPMSystem
import FPMConfiguration
import Testing

@Suite struct ProcessManagerPolicyTests {
    let dynamic = ProcessManagerSettings(style: .dynamic, maxChildren: 10, startServers: 2, minSpareServers: 4,
                                         maxSpareServers: 6, maxSpawnRate: 32)

    func idle(_ n: Int, startedAt base: Int = 0, activity: Int = 0) -> [IdleWorker] {
        (0..<n).map { IdleWorker(pid: Int32(100 + $0), startedMono: base + $0, lastActivityMono: activity) }
    }

    @Test func staticPoolNeverChangesOnATick() {
        var state = ProcessManagerState()
        let s = ProcessManagerSettings(style: .static, maxChildren: 4)
        #expect(ProcessManagerPolicy.tick(settings: s, state: &state, running: 4, idle: [], nowMono: 0) == .none)
        #expect(s.initialChildren == 4)
    }

    @Test func dynamicSpawnsAtARateThatDoublesEachTick() {
        var state = ProcessManagerState()
        let s = ProcessManagerSettings(style: .dynamic, maxChildren: 100, startServers: 1, minSpareServers: 40,
                                       maxSpareServers: 60, maxSpawnRate: 32)
        var running = 0
        var batches: [Int] = []
        for _ in 0..<7 {
            let action = ProcessManagerPolicy.tick(settings: s, state: &state, running: running, idle: idle(running), nowMono: 0)
            guard case .spawn(let n, _) = action else { break }
            batches.append(n)
            running += n
        }
        // php-fpm's verified timeline for min_spare = 40: 1, 2, 4, 8, 16, 9.
        #expect(batches == [1, 2, 4, 8, 16, 9])
    }

    @Test func dynamicWarnsBusyFromTheEighthBatch() {
        var state = ProcessManagerState()
        state.spawnRate = 8
        let s = ProcessManagerSettings(style: .dynamic, maxChildren: 100, minSpareServers: 40, maxSpareServers: 60)
        #expect(ProcessManagerPolicy.tick(settings: s, state: &state, running: 0, idle: [], nowMono: 0) == .spawn(count: 8, busyWarning: true))
        #expect(state.spawnRate == 16)
    }

    @Test func dynamicRetiresTheOldestIdleWorkerOnePerTick() {
        var state = ProcessManagerState()
        state.spawnRate = 4
        let workers = [IdleWorker(pid: 7, startedMono: 50, lastActivityMono: 0),
                       IdleWorker(pid: 8, startedMono: 10, lastActivityMono: 0)] + idle(6, startedAt: 100)
        #expect(ProcessManagerPolicy.tick(settings: dynamic, state: &state, running: 8, idle: workers, nowMono: 0) == .retire(pid: 8))
        #expect(state.spawnRate == 1)
    }

    @Test func dynamicAtMaxChildrenReportsInsteadOfSpawning() {
        var state = ProcessManagerState()
        #expect(ProcessManagerPolicy.tick(settings: dynamic, state: &state, running: 10, idle: idle(1), nowMono: 0) == .maxChildrenReached)
    }

    @Test func dynamicSpawnIsCappedByMaxChildren() {
        var state = ProcessManagerState()
        state.spawnRate = 8
        #expect(ProcessManagerPolicy.tick(settings: dynamic, state: &state, running: 9, idle: [], nowMono: 0) == .spawn(count: 1, busyWarning: true))
    }

    @Test func dynamicWithinSparesResetsTheRate() {
        var state = ProcessManagerState()
        state.spawnRate = 16
        #expect(ProcessManagerPolicy.tick(settings: dynamic, state: &state, running: 5, idle: idle(5), nowMono: 0) == .none)
        #expect(state.spawnRate == 1)
    }

    @Test func ondemandRetiresOnlyPastTheIdleTimeout() {
        var state = ProcessManagerState()
        let s = ProcessManagerSettings(style: .ondemand, maxChildren: 3, processIdleTimeout: 2)
        let w = [IdleWorker(pid: 5, startedMono: 0, lastActivityMono: 1_000_000_000)]
        #expect(ProcessManagerPolicy.tick(settings: s, state: &state, running: 1, idle: w, nowMono: 2_500_000_000) == .none)
        #expect(ProcessManagerPolicy.tick(settings: s, state: &state, running: 1, idle: w, nowMono: 3_500_000_000) == .retire(pid: 5))
        #expect(s.initialChildren == 0)
    }

    @Test func ondemandSpawnsOneForAPendingConnectionUnlessOneIsIdle() {
        let s = ProcessManagerSettings(style: .ondemand, maxChildren: 2)
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 0, idle: 0, starting: 0) == .spawn(count: 1, busyWarning: false))
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 1, idle: 1, starting: 0) == .none)
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 2, idle: 0, starting: 0) == .maxChildrenReached)
    }

    @Test func ondemandForksForTheWholeBurstInOneStep() {
        let s = ProcessManagerSettings(style: .ondemand, maxChildren: 3)
        // Three connections into an empty pool: three workers at once.
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 0, idle: 0, starting: 0, waiting: 3) == .spawn(count: 3, busyWarning: false))
        // More waiting than room: up to max_children.
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 1, idle: 0, starting: 0, waiting: 5) == .spawn(count: 2, busyWarning: false))
        // Workers starting or idle take their share; only the rest are forked.
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 2, idle: 0, starting: 2, waiting: 3) == .spawn(count: 1, busyWarning: false))
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 2, idle: 1, starting: 1, waiting: 2) == .none)
        // A second readiness event for the same burst while its workers start: nothing more.
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 3, idle: 0, starting: 3, waiting: 3) == .none)
        // Full, with a connection nobody will take.
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 3, idle: 0, starting: 0, waiting: 1) == .maxChildrenReached)
        // The queue could not be read (0): one, as before.
        #expect(ProcessManagerPolicy.onPendingConnection(settings: s, running: 0, idle: 0, starting: 0, waiting: 0) == .spawn(count: 1, busyWarning: false))
    }

    @Test func requestLimitJitterStaysInItsWindow() {
        #expect(ProcessManagerPolicy.requestLimit(maxRequests: 0, jitter: 5, random: 3) == 0)
        #expect(ProcessManagerPolicy.requestLimit(maxRequests: 100, jitter: 0, random: 3) == 100)
        var seen = Set<Int>()
        for r in 0..<1000 {
            let limit = ProcessManagerPolicy.requestLimit(maxRequests: 100, jitter: 10, random: r &* 7919)
            #expect((90...110).contains(limit))
            seen.insert(limit)
        }
        #expect(seen.count == 21)
    }
}
