@testable import FPMStatus
import Testing

/// The live/ready decision behind `/live`, `/ready` and `fpmctl health`.
@Suite struct HealthTests {
    static let idle = Health.Worker(active: false, busyMicros: 0)
    static func busy(_ seconds: Int) -> Health.Worker { Health.Worker(active: true, busyMicros: seconds * 1_000_000) }

    func decide(ondemand: Bool = false, max: Int = 2, _ workers: [Health.Worker], queue: Int = 0, stuckAfter: Int? = nil,
                running: Bool = true, report: Bool = true) -> Health.Verdict {
        Health.decide(Health.Input(masterRunning: running, ondemand: ondemand, maxChildren: max, workers: workers,
                                   workersReportStage: report, listenQueue: queue, stuckAfterMicros: stuckAfter.map { $0 * 1_000_000 }))
    }

    @Test func anIdleWorkerIsReady() {
        let v = decide([Self.idle, Self.busy(1)], queue: 50)
        #expect(v.live && v.ready && v.exitCode == 0)
    }

    @Test func busyWithAShortQueueIsReady() {
        #expect(decide([Self.busy(1), Self.busy(1)], queue: 2).ready)
    }

    @Test func busyWithALongQueueIsLiveButNotReady() {
        let v = decide([Self.busy(1), Self.busy(1)], queue: 3)
        #expect(v.live && !v.ready && v.exitCode == 1)
        #expect(v.reason.hasPrefix("not ready: no idle worker and 3 connections wait"))
    }

    @Test func everyWorkerStuckIsNotLive() {
        let v = decide([Self.busy(100), Self.busy(100)], stuckAfter: 40)
        #expect(!v.live && !v.ready && v.exitCode == 2)
        #expect(v.reason.contains("stuck"))
        // One worker within the limit keeps the pool live.
        #expect(decide([Self.busy(100), Self.busy(5)], stuckAfter: 40).live)
    }

    @Test func withoutATerminateTimeoutNoWorkerIsStuck() {
        #expect(Health.stuckAfter(terminateTimeoutSeconds: 0) == nil)
        #expect(Health.stuckAfter(terminateTimeoutSeconds: 30) == 30_000_000 + Health.stuckGraceMicros)
        #expect(decide(max: 1, [Self.busy(100_000)], queue: 0).live)
    }

    @Test func noWorkerIsNotLiveExceptOndemandWithRoom() {
        #expect(!decide([]).live)
        let v = decide(ondemand: true, max: 2, [], queue: 10)
        #expect(v.live && v.ready)
        // Ondemand at max_children, all busy, a long queue: not ready.
        #expect(!decide(ondemand: true, max: 2, [Self.busy(1), Self.busy(1)], queue: 5).ready)
    }

    @Test func aStoppedMasterIsNotLive() {
        let v = decide([Self.idle], running: false)
        #expect(!v.live && v.exitCode == 2)
    }

    @Test func withoutStagesReadinessRestsOnTheQueue() {
        #expect(decide([Self.idle, Self.idle], queue: 0, report: false).ready)
        #expect(!decide([Self.idle, Self.idle], queue: 3, report: false).ready)
        #expect(decide(max: 1, [Self.busy(1000)], stuckAfter: 1, report: false).live)
    }

    func decide(master: MasterReadiness, down: String? = nil, _ workers: [Health.Worker]) -> Health.Verdict {
        var input = Health.Input(masterRunning: true, ondemand: false, maxChildren: 2, workers: workers, listenQueue: 0,
                                 stuckAfterMicros: nil)
        input.master = master
        input.down = down
        return Health.decide(input)
    }

    @Test func aDrainOrAStopWithdrawsReadinessButNotLiveness() {
        let draining = decide(master: .draining, [Self.idle, Self.idle])
        #expect(draining.live && !draining.ready && draining.exitCode == 1)
        #expect(draining.reason == "not ready: the master is draining (fpmctl drain) (2 workers, 2 idle, 0 stuck, listen queue 0)")
        let stopping = decide(master: .stopping, [Self.busy(1)])
        #expect(stopping.live && !stopping.ready)
        #expect(stopping.reason.hasPrefix("not ready: the master is stopping"))
        #expect(decide(master: .ready, [Self.idle]).ready)
    }

    @Test func aDownPoolIsNamedWithWhy() {
        let v = decide(master: .ready, down: "pool api is down: its workers exit at start (last: exited with code 1)", [])
        #expect(!v.ready && v.exitCode == 2)
        #expect(v.reason == "not live: pool api is down: its workers exit at start (last: exited with code 1) (0 workers, 0 idle, 0 stuck, listen queue 0)")
        // Without a reason, the generic one.
        #expect(decide(master: .ready, []).reason.hasPrefix("not live: no worker is running"))
    }
}
