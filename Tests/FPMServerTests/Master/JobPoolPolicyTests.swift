import FPMConfiguration
@testable import FPMServer
import Testing

/// Job pools scale on gearmand's backlog, on a made-up clock: a backlog grows the pool to
/// max_children, an empty queue lets it shrink by the usual idle rules.
@Suite struct JobPoolPolicyTests {
    static let second = 1_000_000_000
    let ondemand = ProcessManagerSettings(style: .ondemand, maxChildren: 4, maxSpawnRate: 32, processIdleTimeout: 2)
    let dynamic = ProcessManagerSettings(style: .dynamic, maxChildren: 6, startServers: 1, minSpareServers: 1, maxSpareServers: 2)

    func idle(_ pids: [Int32], since: Int) -> [IdleWorker] {
        pids.map { IdleWorker(pid: $0, startedMono: 0, lastActivityMono: since) }
    }

    @Test func aBacklogStartsAWorkerPerWaitingJobUpToMaxChildren() {
        var state = ProcessManagerState()
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 0, idle: [], starting: 0, backlog: 2, nowMono: 0)
            == .spawn(count: 2, busyWarning: false))
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 1, idle: [], starting: 0, backlog: 100, nowMono: 0)
            == .spawn(count: 3, busyWarning: false))
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 4, idle: [], starting: 0, backlog: 100, nowMono: 0)
            == .maxChildrenReached)
    }

    @Test func idleAndStartingWorkersTakeTheirShareOfTheBacklog() {
        var state = ProcessManagerState()
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 3, idle: idle([1], since: 0), starting: 2, backlog: 3,
                                   nowMono: 0) == .none)
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 3, idle: idle([1], since: 0), starting: 1, backlog: 3,
                                   nowMono: 0) == .spawn(count: 1, busyWarning: false))
    }

    @Test func noWorkerIsRetiredWhileJobsWait() {
        var state = ProcessManagerState()
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 2, idle: idle([1, 2], since: 0), starting: 0,
                                   backlog: 5, nowMono: 60 * Self.second) == .spawn(count: 2, busyWarning: false))
    }

    @Test func anEmptyQueueShrinksThePoolAfterTheIdleTimeout() {
        var state = ProcessManagerState()
        let workers = idle([7, 8], since: 10 * Self.second)
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 2, idle: workers, starting: 0, backlog: 0,
                                   nowMono: 11 * Self.second) == .none)
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 2, idle: workers, starting: 0, backlog: 0,
                                   nowMono: 13 * Self.second) == .retire(pid: 7))
    }

    @Test func dynamicKeepsItsSparesWhenTheQueueIsEmpty() {
        var state = ProcessManagerState()
        #expect(JobPoolPolicy.tick(settings: dynamic, state: &state, running: 5, idle: idle([1, 2, 3], since: 0), starting: 0,
                                   backlog: 0, nowMono: 0) == .retire(pid: 1))
        #expect(JobPoolPolicy.tick(settings: dynamic, state: &state, running: 2, idle: [], starting: 0, backlog: 0, nowMono: 0)
            == .spawn(count: 1, busyWarning: false))
    }

    @Test func anUnreadableBacklogStartsNothingBlindly() {
        var state = ProcessManagerState()
        #expect(JobPoolPolicy.tick(settings: ondemand, state: &state, running: 0, idle: [], starting: 0, backlog: nil, nowMono: 0) == .none)
    }

    @Test func staticPoolsAreLeftAlone() {
        var state = ProcessManagerState()
        #expect(JobPoolPolicy.tick(settings: ProcessManagerSettings(style: .static, maxChildren: 3), state: &state, running: 1,
                                   idle: [], starting: 0, backlog: 50, nowMono: 0) == .none)
    }
}
