import FPMConfiguration
@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// The master's process control, driven with a fake clock: times are plain nanosecond Ints.
@Suite struct ProcessControlTests {
    typealias PC = ProcessControl
    typealias Status = FPMSystem.ExitStatus

    let sec = 1_000_000_000
    let noEmergency = PC.EmergencyRestart(threshold: 0, intervalSeconds: 0)

    func child(_ pid: Int32, pool: String = "www", generation: Int = 1, startedAt: Int = 0,
               lifecycle: PC.Lifecycle = .serving) -> PC.Child {
        PC.Child(pid: pid, pool: pool, generation: generation, slot: Int(pid % 10), control: 100 + pid,
                 startedMono: startedAt, lifecycle: lifecycle)
    }

    /// A generation-1 machine, running, with one serving worker per pid (all started at `startedAt`).
    func running(_ pids: [Int32] = [10, 11], timeout: Int = 10, emergency: PC.EmergencyRestart? = nil,
                 startedAt: Int = 0) -> PC {
        var m = PC(generation: 1, timings: .init(processControlTimeout: timeout),
                   emergencyRestart: emergency ?? noEmergency)
        for pid in pids { #expect(m.handle(.spawned(child(pid, startedAt: startedAt))) == []) }
        #expect(m.handle(.started(now: startedAt)) == [.writeState])
        #expect(m.phase == .running)
        return m
    }

    /// What the re-executed master builds on a reload during a hand-over: generation 3, with an
    /// inherited generation-1 worker already quitting, two serving generation-2 workers and two
    /// fresh generation-3 workers.
    func handingOver(at t0: Int) -> PC {
        var m = PC(generation: 3, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = m.handle(.spawned(child(10, generation: 1, lifecycle: .quitting(deadline: t0 + 20 * sec))))
        _ = m.handle(.spawned(child(20, generation: 2)))
        _ = m.handle(.spawned(child(21, generation: 2)))
        _ = m.handle(.spawned(child(30, generation: 3, startedAt: t0)))
        _ = m.handle(.spawned(child(31, generation: 3, startedAt: t0)))
        #expect(m.phase == .starting)
        #expect(m.handle(.started(now: t0)) == [.writeState])
        #expect(m.phase == .handingOver(deadline: t0 + 15 * sec))
        return m
    }

    func exitLog(_ pid: Int32, _ status: Status, after seconds: String, previous: Bool = false) -> String {
        "[pool www] child \(pid)\(previous ? " (previous generation)" : "") \(status) after \(seconds) seconds from start"
    }

    // MARK: timings

    @Test func timingsReadProcessControlTimeout() {
        let t = PC.Timings(processControlTimeout: 10)
        #expect(t.drain == 10 * sec)
        #expect(t.stopKillGrace == 10 * sec)
        #expect(t.killGrace == 1 * sec)
        #expect(t.handoverLimit == 15 * sec)
    }

    @Test func zeroProcessControlTimeoutDrainsForThirtySecondsAndKillsAfterOne() {
        let t = PC.Timings(processControlTimeout: 0)
        #expect(t.drain == 30 * sec)
        #expect(t.stopKillGrace == 1 * sec)
        var m = running([10], timeout: 0)
        _ = m.handle(.signal(SIGQUIT, now: 5 * sec))
        #expect(m.children[10]?.lifecycle == .quitting(deadline: 35 * sec))
        _ = m.handle(.signal(SIGTERM, now: 6 * sec))
        #expect(m.children[10]?.lifecycle == .terminated(deadline: 7 * sec))
    }

    @Test func stopKillGraceIsTheTimeoutWhenAboveOneSecond() {
        #expect(PC.Timings(processControlTimeout: 1).stopKillGrace == 1 * sec)
        #expect(PC.Timings(processControlTimeout: 3).stopKillGrace == 3 * sec)
        #expect(PC.Timings(processControlTimeout: -5).stopKillGrace == 1 * sec)
        #expect(PC.Timings(processControlTimeout: -5).drain == 30 * sec)
    }

    // MARK: start

    @Test func spawnedOnlyRecordsTheChild() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        #expect(m.phase == .starting)
        #expect(m.handle(.spawned(child(10))) == [])
        #expect(m.children[10] == child(10))
        #expect(m.children[10]?.retired == false)
        #expect(m.nextDeadline == nil)
    }

    @Test func startedWithoutPreviousGenerationRuns() {
        var m = PC(generation: 2, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = m.handle(.spawned(child(10, generation: 2)))
        // A reload whose previous generation had no worker left still says the new one serves.
        #expect(m.handle(.started(now: 0)) == [.log(.notice, "generation 2 is serving"), .writeState])
        #expect(m.phase == .running)
        #expect(m.phase.isServing)
    }

    @Test func aStopDuringTheStartStands() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = m.handle(.spawned(child(10)))
        _ = m.handle(.signal(SIGQUIT, now: 0))
        _ = m.handle(.started(now: 1))
        #expect(m.phase == .finishing)
        let out = m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 2))
        #expect(!out.contains(.spawn(pool: "www")))
        #expect(out.contains(.exit(code: 0)))
    }

    @Test func aWorkerThatExitsWhileStartingIsReplaced() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = m.handle(.spawned(child(10, startedAt: 0)))
        let out = m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 2_000_000_000))
        #expect(out.contains(.spawn(pool: "www")))
    }

    @Test func startedWithNoChildrenAtAllRuns() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        #expect(m.handle(.started(now: 7)) == [.writeState])
        #expect(m.phase == .running)
    }

    @Test func currentListsOnlyTheServingGenerationOfThePool() {
        var m = handingOver(at: 100 * sec)
        _ = m.handle(.spawned(child(40, pool: "api", generation: 3)))
        #expect(Set(m.current(in: "www").map(\.pid)) == [30, 31])
        #expect(m.current(in: "api").map(\.pid) == [40])
        #expect(m.current(in: "none").isEmpty)
        // The per-tick grouping says the same for every pool at once.
        let byPool = m.currentByPool()
        #expect(Set(byPool.keys) == ["www", "api"])
        #expect(Set(byPool["www"]?.map(\.pid) ?? []) == [30, 31])
        #expect(byPool["api"]?.map(\.pid) == [40])
    }

    @Test func phaseIsServingOnlyWhileRunningOrHandingOver() {
        #expect(PC.Phase.running.isServing)
        #expect(PC.Phase.handingOver(deadline: 1).isServing)
        #expect(!PC.Phase.starting.isServing)
        #expect(!PC.Phase.finishing.isServing)
        #expect(!PC.Phase.terminating.isServing)
    }
}
