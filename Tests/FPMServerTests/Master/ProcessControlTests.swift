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

    // MARK: 1. graceful stop

    @Test func gracefulStopAsksEveryWorkerToQuitThenEscalates() {
        var m = running([10, 11])
        let t0 = 100 * sec
        #expect(m.handle(.signal(SIGQUIT, now: t0)) == [
            .log(.notice, "Finishing ..."), .finish(pid: 10), .finish(pid: 11), .writeState,
        ])
        #expect(m.phase == .finishing)
        #expect(m.children[10]?.lifecycle == .quitting(deadline: t0 + 10 * sec))
        #expect(m.children[11]?.lifecycle == .quitting(deadline: t0 + 10 * sec))
        #expect(m.nextDeadline == t0 + 10 * sec)

        // Before the drain deadline nothing happens.
        #expect(m.handle(.tick(now: t0 + 10 * sec - 1)) == [])
        #expect(m.children[10]?.lifecycle == .quitting(deadline: t0 + 10 * sec))

        // At the deadline: SIGTERM, SIGKILL a second later.
        #expect(m.handle(.tick(now: t0 + 10 * sec)) == [
            .log(.warning, "[pool www] child 10 did not finish within process_control_timeout, sending SIGTERM"),
            .signal(pid: 10, signal: SIGTERM),
            .log(.warning, "[pool www] child 11 did not finish within process_control_timeout, sending SIGTERM"),
            .signal(pid: 11, signal: SIGTERM),
        ])
        #expect(m.children[10]?.lifecycle == .terminated(deadline: t0 + 11 * sec))
        #expect(m.children[11]?.lifecycle == .terminated(deadline: t0 + 11 * sec))
        #expect(m.isBeingTerminated(10))
        #expect(m.nextDeadline == t0 + 11 * sec)

        #expect(m.handle(.tick(now: t0 + 11 * sec - 1)) == [])
        #expect(m.handle(.tick(now: t0 + 11 * sec)) == [
            .log(.warning, "[pool www] child 10 still alive after SIGTERM, sending SIGKILL"),
            .signal(pid: 10, signal: SIGKILL),
            .log(.warning, "[pool www] child 11 still alive after SIGTERM, sending SIGKILL"),
            .signal(pid: 11, signal: SIGKILL),
        ])
        #expect(m.children[10]?.lifecycle == .killed)
        #expect(m.children[11]?.lifecycle == .killed)
        #expect(m.nextDeadline == nil)
        #expect(m.handle(.tick(now: t0 + 60 * sec)) == [])

        // The exits: released, never respawned; the last one ends the master.
        let killed = Status.signaled(signal: SIGKILL, coreDumped: false)
        let ten = m.children[10]!
        #expect(m.handle(.childExited(pid: 10, status: killed, now: t0 + 12 * sec)) == [
            .release(ten),
            .log(.warning, "[pool www] child 10 exited on signal 9 (SIGKILL) after 112.000 seconds from start"),
            .writeState,
        ])
        #expect(m.children[10] == nil)
        let eleven = m.children[11]!
        #expect(m.handle(.childExited(pid: 11, status: killed, now: t0 + 12 * sec)) == [
            .release(eleven),
            .log(.warning, exitLog(11, killed, after: "112.000")),
            .writeState,
            .log(.notice, "exiting, bye-bye!"),
            .exit(code: 0),
        ])
        #expect(m.children.isEmpty)
        #expect(m.phase == .finishing)
    }

    @Test func gracefulStopEndsWhenWorkersFinishInTime() {
        var m = running([10, 11])
        _ = m.handle(.signal(SIGQUIT, now: 5 * sec))
        let ten = m.children[10]!
        #expect(m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 6 * sec)) == [
            .release(ten), .log(.notice, "[pool www] child 10 exited with code 0 after 6.000 seconds from start"), .writeState,
        ])
        // A worker quitting on SIGQUIT (no control channel) is logged at notice too.
        let quit = Status.signaled(signal: SIGQUIT, coreDumped: false)
        let eleven = m.children[11]!
        #expect(m.handle(.childExited(pid: 11, status: quit, now: 7 * sec)) == [
            .release(eleven), .log(.notice, exitLog(11, quit, after: "7.000")), .writeState,
            .log(.notice, "exiting, bye-bye!"), .exit(code: 0),
        ])
        #expect(m.nextDeadline == nil)
    }

    @Test func gracefulStopWithNoChildrenExitsAtOnce() {
        var m = running([])
        #expect(m.handle(.signal(SIGQUIT, now: 0)) == [
            .log(.notice, "Finishing ..."), .writeState, .log(.notice, "exiting, bye-bye!"), .exit(code: 0),
        ])
        #expect(m.phase == .finishing)
    }

    @Test func gracefulStopIsAcceptedWhileStarting() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = m.handle(.spawned(child(10)))
        #expect(m.handle(.signal(SIGQUIT, now: 0)) == [.log(.notice, "Finishing ..."), .finish(pid: 10), .writeState])
        #expect(m.phase == .finishing)
    }

    @Test func gracefulStopDuringAHandOverAsksEveryGenerationToQuit() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        #expect(m.handle(.signal(SIGQUIT, now: t0 + sec)) == [
            .log(.notice, "Finishing ..."),
            .finish(pid: 20), .finish(pid: 21), .finish(pid: 30), .finish(pid: 31),
            .writeState,
        ])
        #expect(m.phase == .finishing)
        // The inherited quitting worker keeps its own deadline.
        #expect(m.children[10]?.lifecycle == .quitting(deadline: t0 + 20 * sec))
        #expect(m.children[30]?.lifecycle == .quitting(deadline: t0 + 11 * sec))
        // The hand-over is over: its deadline no longer counts, readiness does nothing.
        #expect(m.nextDeadline == t0 + 11 * sec)
        #expect(m.handle(.generationReady(now: t0 + 2 * sec)) == [])
        #expect(m.phase == .finishing)
    }

    @Test func noRespawnWhileFinishing() {
        var m = running([10, 11])
        _ = m.handle(.signal(SIGQUIT, now: 0))
        for status in [Status.exited(code: 0), .exited(code: 1), .signaled(signal: SIGSEGV, coreDumped: false)] {
            var copy = m
            let out = copy.handle(.childExited(pid: 10, status: status, now: 10))
            #expect(!out.contains(.spawn(pool: "www")))
            #expect(copy.handle(.tick(now: 5 * sec)).allSatisfy { if case .spawn = $0 { false } else { true } })
        }
    }

    @Test func secondGracefulStopDoesNothing() {
        var m = running([10])
        _ = m.handle(.signal(SIGQUIT, now: 0))
        #expect(m.handle(.signal(SIGQUIT, now: 3 * sec)) == [])
        #expect(m.children[10]?.lifecycle == .quitting(deadline: 10 * sec))
    }

    // MARK: 2. SIGTERM during a graceful stop

    @Test func sigtermDuringGracefulStopTerminatesQuittingWorkersAtOnce() {
        var m = running([10, 11, 12, 13])
        let t0 = 100 * sec
        _ = m.handle(.signal(SIGQUIT, now: t0))
        // 11 ran past request_terminate_timeout: already SIGTERMed.
        #expect(m.handle(.requestTimedOut(pid: 11, now: t0 + sec)) == [.signal(pid: 11, signal: SIGTERM)])
        #expect(m.children[11]?.lifecycle == .terminated(deadline: t0 + 2 * sec))
        // 13 was SIGTERMed and then SIGKILLed.
        _ = m.handle(.requestTimedOut(pid: 13, now: t0))
        #expect(m.handle(.tick(now: t0 + sec)) == [
            .log(.warning, "[pool www] child 13 still alive after SIGTERM, sending SIGKILL"),
            .signal(pid: 13, signal: SIGKILL),
        ])
        #expect(m.children[13]?.lifecycle == .killed)

        let t1 = t0 + sec + sec / 2
        #expect(m.handle(.signal(SIGTERM, now: t1)) == [
            .log(.notice, "Terminating ..."),
            .signal(pid: 10, signal: SIGTERM),
            .signal(pid: 12, signal: SIGTERM),
            .writeState,
        ])
        #expect(m.phase == .terminating)
        #expect(m.children[10]?.lifecycle == .terminated(deadline: t1 + 10 * sec))
        #expect(m.children[12]?.lifecycle == .terminated(deadline: t1 + 10 * sec))
        #expect(m.children[11]?.lifecycle == .terminated(deadline: t0 + 2 * sec))
        #expect(m.children[13]?.lifecycle == .killed)
        #expect(m.nextDeadline == t0 + 2 * sec)

        // Nothing more is taken on while terminating.
        #expect(m.handle(.signal(SIGTERM, now: t1 + 1)) == [])
        #expect(m.handle(.signal(SIGINT, now: t1 + 1)) == [])
        #expect(m.handle(.signal(SIGQUIT, now: t1 + 1)) == [])
        #expect(m.phase == .terminating)
        #expect(m.children[10]?.lifecycle == .terminated(deadline: t1 + 10 * sec))

        // Escalation: 11 at its own deadline, 10 and 12 after stopKillGrace.
        #expect(m.handle(.tick(now: t0 + 2 * sec)) == [
            .log(.warning, "[pool www] child 11 still alive after SIGTERM, sending SIGKILL"),
            .signal(pid: 11, signal: SIGKILL),
        ])
        #expect(m.handle(.tick(now: t1 + 10 * sec - 1)) == [])
        #expect(m.handle(.tick(now: t1 + 10 * sec)) == [
            .log(.warning, "[pool www] child 10 still alive after SIGTERM, sending SIGKILL"),
            .signal(pid: 10, signal: SIGKILL),
            .log(.warning, "[pool www] child 12 still alive after SIGTERM, sending SIGKILL"),
            .signal(pid: 12, signal: SIGKILL),
        ])

        // Exits: no respawn; the last one ends the master.
        let term = Status.signaled(signal: SIGTERM, coreDumped: false)
        for pid: Int32 in [10, 11, 12] {
            let out = m.handle(.childExited(pid: pid, status: term, now: t1 + 11 * sec))
            #expect(!out.contains(.spawn(pool: "www")))
            #expect(!out.contains(.exit(code: 0)))
        }
        let last = m.children[13]!
        let killed = Status.signaled(signal: SIGKILL, coreDumped: false)
        #expect(m.handle(.childExited(pid: 13, status: killed, now: t1 + 11 * sec)) == [
            .release(last), .log(.warning, exitLog(13, killed, after: "112.500")), .writeState,
            .log(.notice, "exiting, bye-bye!"), .exit(code: 0),
        ])
    }

    @Test func sigtermWhileRunningTerminatesEveryWorkerWithStopKillGrace() {
        var m = running([11, 10], timeout: 3)
        #expect(m.handle(.signal(SIGTERM, now: 50)) == [
            .log(.notice, "Terminating ..."), .signal(pid: 10, signal: SIGTERM), .signal(pid: 11, signal: SIGTERM), .writeState,
        ])
        #expect(m.children[10]?.lifecycle == .terminated(deadline: 50 + 3 * sec))
        #expect(m.nextDeadline == 50 + 3 * sec)
    }

    @Test func sigintIsAFastStopToo() {
        var m = running([10])
        #expect(m.handle(.signal(SIGINT, now: 0)) == [
            .log(.notice, "Terminating ..."), .signal(pid: 10, signal: SIGTERM), .writeState,
        ])
        #expect(m.phase == .terminating)
        #expect(m.handle(.signal(SIGTERM, now: 1)) == [])
    }

    @Test func sigtermCancelsDelayedRespawns() {
        var m = running([10])
        _ = m.handle(.childExited(pid: 10, status: .exited(code: 1), now: sec / 2))
        #expect(m.nextDeadline == sec / 2 + sec)
        _ = m.handle(.signal(SIGTERM, now: sec / 2 + 1))
        #expect(m.nextDeadline == nil)
        #expect(m.handle(.tick(now: 10 * sec)) == [])
    }

    @Test func sigquitCancelsDelayedRespawns() {
        var m = running([10, 11])
        _ = m.handle(.childExited(pid: 10, status: .exited(code: 1), now: sec / 2))
        _ = m.handle(.signal(SIGQUIT, now: sec))
        #expect(m.nextDeadline == 11 * sec)
        #expect(m.handle(.tick(now: 2 * sec)) == [])
    }

    // MARK: 3. fast stop with no children

    @Test(arguments: [SIGTERM, SIGINT])
    func fastStopWithNoChildrenExitsAtOnce(signal: Int32) {
        var m = running([])
        #expect(m.handle(.signal(signal, now: 0)) == [
            .log(.notice, "Terminating ..."), .writeState, .log(.notice, "exiting, bye-bye!"), .exit(code: 0),
        ])
        #expect(m.phase == .terminating)
    }

    // MARK: 4. reload

    /// The configuration a reload checked, with nothing to prepare.
    static let checked = PC.Event.reloadChecked(candidate: FPMConfiguration(), preparing: [])

    @Test(arguments: [SIGUSR2, SIGHUP])
    func reloadSignalWhileRunningValidatesBindsThenReExecutes(signal: Int32) {
        var m = running([10])
        #expect(m.handle(.signal(signal, now: 0)) == [.validateReload(reason: "Reloading in progress ...")])
        #expect(m.reload.step == .validating)
        #expect(m.phase == .running)
        #expect(m.children[10]?.lifecycle == .serving)
        #expect(m.handle(Self.checked) == [.bindNewListeners])
        #expect(m.reload.candidate == FPMConfiguration())
        #expect(m.handle(.listenersBound([])) == [.execReload])
        #expect(m.reload.step == .execing)
    }

    @Test(arguments: [SIGQUIT, SIGTERM])
    func reloadIsRefusedWhileStopping(stop: Int32) {
        var m = running([10])
        _ = m.handle(.signal(stop, now: 0))
        #expect(m.handle(.signal(SIGUSR2, now: 1)) == [])
        #expect(m.handle(.signal(SIGHUP, now: 1)) == [])
        #expect(m.handle(Self.checked) == [])
        #expect(m.handle(.listenersBound([])) == [])
        #expect(m.reload.step == .idle)
    }

    @Test func aReloadCheckedAfterAStopBeganIsAbandoned() {
        var m = running([10])
        #expect(m.handle(.signal(SIGUSR2, now: 0)) == [.validateReload(reason: "Reloading in progress ...")])
        _ = m.handle(.signal(SIGQUIT, now: 1))
        #expect(m.handle(Self.checked) == [.log(.notice, "reload abandoned: the master is stopping")])
        #expect(m.reload.step == .idle)
        #expect(m.reload.failures == 0)
    }

    @Test func reloadIsRefusedWhileStarting() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        #expect(m.handle(.signal(SIGUSR2, now: 0)) == [])
        #expect(m.handle(.signal(SIGHUP, now: 0)) == [])
        #expect(m.handle(Self.checked) == [])
    }

    @Test func reloadWhileAReloadHandsOverIsAccepted() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        #expect(m.generation == 3)
        #expect(m.handle(.signal(SIGUSR2, now: t0 + sec)) == [.validateReload(reason: "Reloading in progress ...")])
        // One reload at a time: a second request while the first is in flight is told and dropped.
        #expect(m.handle(.signal(SIGHUP, now: t0 + sec))
                == [.log(.notice, "a reload is already in progress; this reload request is ignored")])
        #expect(m.handle(Self.checked) == [.bindNewListeners])
        #expect(m.handle(.listenersBound([])) == [.execReload])
        #expect(m.phase == .handingOver(deadline: t0 + 15 * sec))
    }

    // MARK: 5. hand-over

    @Test func generationReadyRetiresThePreviousGenerations() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        #expect(m.nextDeadline == t0 + 15 * sec)
        let t1 = t0 + 2 * sec
        #expect(m.handle(.generationReady(now: t1)) == [
            .askToQuit(pid: 20), .askToQuit(pid: 21),
            .handedOver,
            .log(.notice, "generation 3 is serving; previous workers are finishing their requests"),
            .writeState,
        ])
        #expect(m.phase == .running)
        #expect(m.children[10]?.lifecycle == .quitting(deadline: t0 + 20 * sec))
        #expect(m.children[20]?.lifecycle == .quitting(deadline: t1 + 10 * sec))
        #expect(m.children[21]?.lifecycle == .quitting(deadline: t1 + 10 * sec))
        #expect(m.children[30]?.lifecycle == .serving)
        #expect(m.children[31]?.lifecycle == .serving)
        #expect(m.nextDeadline == t1 + 10 * sec)

        // Only once.
        #expect(m.handle(.generationReady(now: t1 + 1)) == [])
        #expect(m.phase == .running)
    }

    @Test func generationReadyWhenNotHandingOverDoesNothing() {
        var m = running([10])
        #expect(m.handle(.generationReady(now: 5)) == [])
        #expect(m.phase == .running)
        #expect(m.children[10]?.lifecycle == .serving)
        var starting = PC(generation: 2, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = starting.handle(.spawned(child(10, generation: 1)))
        #expect(starting.handle(.generationReady(now: 5)) == [])
        #expect(starting.phase == .starting)
    }

    @Test func handOverDeadlineRetiresThePreviousGenerationAnyway() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        #expect(m.handle(.tick(now: t0 + 15 * sec - 1)) == [])
        #expect(m.phase == .handingOver(deadline: t0 + 15 * sec))
        let t1 = t0 + 15 * sec
        #expect(m.handle(.tick(now: t1)) == [
            .log(.warning, "the new generation is not ready after 15 s; retiring the previous one anyway"),
            .askToQuit(pid: 20), .askToQuit(pid: 21),
            .handedOver,
            .log(.notice, "generation 3 is serving; previous workers are finishing their requests"),
            .writeState,
        ])
        #expect(m.phase == .running)
        #expect(m.children[20]?.lifecycle == .quitting(deadline: t1 + 10 * sec))
        #expect(m.children[30]?.lifecycle == .serving)
        #expect(m.handle(.generationReady(now: t1 + 1)) == [])
    }

    @Test func handOverTickAlsoEscalatesInheritedWorkers() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        // The inherited generation-1 worker's drain ends at t0 + 20 s, after the hand-over.
        _ = m.handle(.generationReady(now: t0))
        #expect(m.handle(.tick(now: t0 + 20 * sec)) == [
            .log(.warning, "[pool www] child 10 did not finish within process_control_timeout, sending SIGTERM"),
            .signal(pid: 10, signal: SIGTERM),
            .log(.warning, "[pool www] child 20 did not finish within process_control_timeout, sending SIGTERM"),
            .signal(pid: 20, signal: SIGTERM),
            .log(.warning, "[pool www] child 21 did not finish within process_control_timeout, sending SIGTERM"),
            .signal(pid: 21, signal: SIGTERM),
        ])
        #expect(m.children[30]?.lifecycle == .serving)
    }

    @Test func previousGenerationExitsAreNeverRespawned() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        // While handing over.
        let twenty = m.children[20]!
        #expect(m.handle(.childExited(pid: 20, status: .exited(code: 0), now: t0 + sec)) == [
            .release(twenty),
            .log(.notice, "[pool www] child 20 (previous generation) exited with code 0 after 101.000 seconds from start"),
            .writeState,
        ])
        // A crash neither.
        let segv = Status.signaled(signal: SIGSEGV, coreDumped: true)
        let ten = m.children[10]!
        #expect(m.handle(.childExited(pid: 10, status: segv, now: t0 + sec)) == [
            .release(ten),
            .log(.warning, "[pool www] child 10 (previous generation) exited on signal 11 (SIGSEGV - core dumped) after 101.000 seconds from start"),
            .writeState,
        ])
        // After the hand-over.
        _ = m.handle(.generationReady(now: t0 + 2 * sec))
        let out = m.handle(.childExited(pid: 21, status: .exited(code: 1), now: t0 + 3 * sec))
        #expect(!out.contains(.spawn(pool: "www")))
        #expect(m.handle(.tick(now: t0 + 5 * sec)) == [])
        #expect(Set(m.children.keys) == [30, 31])
    }

    @Test func currentGenerationExitDuringHandOverIsRespawned() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        let thirty = m.children[30]!
        #expect(m.handle(.childExited(pid: 30, status: .exited(code: 0), now: t0 + 2 * sec)) == [
            .release(thirty), .log(.notice, exitLog(30, .exited(code: 0), after: "2.000")),
            .spawn(pool: "www"), .writeState,
        ])
        #expect(m.phase == .handingOver(deadline: t0 + 15 * sec))
    }

    @Test func fastStopDuringAHandOverTerminatesEveryGeneration() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        #expect(m.handle(.signal(SIGTERM, now: t0)) == [
            .log(.notice, "Terminating ..."),
            .signal(pid: 10, signal: SIGTERM), .signal(pid: 20, signal: SIGTERM), .signal(pid: 21, signal: SIGTERM),
            .signal(pid: 30, signal: SIGTERM), .signal(pid: 31, signal: SIGTERM),
            .writeState,
        ])
        #expect(m.handle(.tick(now: t0 + 15 * sec)).allSatisfy { $0 != .handedOver })
    }

    // MARK: 6. child exits while running

    @Test func exitedWorkerIsRespawnedWithItsLifetimeLogged() {
        var m = running([12], startedAt: 1 * sec)
        let twelve = m.children[12]!
        #expect(m.handle(.childExited(pid: 12, status: .exited(code: 0), now: 3 * sec)) == [
            .release(twelve),
            .log(.notice, "[pool www] child 12 exited with code 0 after 2.000 seconds from start"),
            .spawn(pool: "www"),
            .writeState,
        ])
        #expect(m.children[12] == nil)
        #expect(m.phase == .running)
        #expect(m.nextDeadline == nil)
    }

    @Test(arguments: [
        Status.exited(code: 1), .exited(code: 255),
        .signaled(signal: SIGTERM, coreDumped: false), .signaled(signal: SIGKILL, coreDumped: false),
        .signaled(signal: SIGSEGV, coreDumped: true),
    ])
    func workerThatFailedAfterASecondIsRespawnedAtOnceWithAWarning(status: Status) {
        var m = running([12])
        let twelve = m.children[12]!
        #expect(m.handle(.childExited(pid: 12, status: status, now: 5 * sec)) == [
            .release(twelve), .log(.warning, exitLog(12, status, after: "5.000")), .spawn(pool: "www"), .writeState,
        ])
    }

    @Test func signalExitWordingNamesTheSignal() {
        #expect(exitLog(12, .signaled(signal: SIGTERM, coreDumped: false), after: "5.000")
                == "[pool www] child 12 exited on signal 15 (SIGTERM) after 5.000 seconds from start")
        var m = running([12])
        let out = m.handle(.childExited(pid: 12, status: .signaled(signal: SIGTERM, coreDumped: false), now: 5 * sec))
        #expect(out[1] == .log(.warning, "[pool www] child 12 exited on signal 15 (SIGTERM) after 5.000 seconds from start"))
    }

    @Test func signalQuitExitIsANotice() {
        var m = running([12])
        let out = m.handle(.childExited(pid: 12, status: .signaled(signal: SIGQUIT, coreDumped: false), now: 5 * sec))
        #expect(out[1] == .log(.notice, "[pool www] child 12 exited on signal 3 (SIGQUIT) after 5.000 seconds from start"))
    }

    @Test func workerFailingWithinASecondOfItsStartIsRespawnedASecondLater() {
        var m = running([10, 11])
        let exit = sec / 2
        let ten = m.children[10]!
        #expect(m.handle(.childExited(pid: 10, status: .exited(code: 70), now: exit)) == [
            .release(ten),
            .log(.warning, "[pool www] child 10 exited with code 70 after 0.500 seconds from start; the pool's workers exit at start: next respawn in 1 s"),
            .writeState,
        ])
        #expect(m.nextDeadline == exit + sec)
        #expect(m.handle(.tick(now: exit + sec - 1)) == [.writeState])  // 11 has run a second: the pool is fine
        #expect(m.handle(.tick(now: exit + sec)) == [.spawn(pool: "www")])
        #expect(m.nextDeadline == nil)
        #expect(m.handle(.tick(now: exit + 2 * sec)) == [])
    }

    @Test func delayedRespawnFallsDueOnTheFirstTickAfterItsTime() {
        var m = running([10, 11], startedAt: 0)
        _ = m.handle(.childExited(pid: 10, status: .exited(code: 1), now: 100))
        _ = m.handle(.childExited(pid: 11, status: .exited(code: 1), now: 200))
        #expect(m.nextDeadline == 100 + sec)
        // A late tick fires both at once.
        #expect(m.handle(.tick(now: 5 * sec)) == [.spawn(pool: "www"), .spawn(pool: "www")])
        #expect(m.nextDeadline == nil)
    }

    @Test func cleanExitWithinASecondIsRespawnedAtOnce() {
        var m = running([10])
        #expect(m.handle(.childExited(pid: 10, status: .exited(code: 0), now: sec / 2)).contains(.spawn(pool: "www")))
        #expect(m.nextDeadline == nil)
    }

    @Test func exitExactlyOneSecondAfterStartIsRespawnedAtOnce() {
        var m = running([10])
        #expect(m.handle(.childExited(pid: 10, status: .exited(code: 1), now: sec)).contains(.spawn(pool: "www")))
        #expect(m.nextDeadline == nil)
    }

    @Test func retiredWorkerIsNotReplaced() {
        var m = running([10])
        _ = m.handle(.retire(pid: 10, now: sec))
        let ten = m.children[10]!
        #expect(ten.retired)
        #expect(m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 2 * sec)) == [
            .release(ten), .log(.notice, exitLog(10, .exited(code: 0), after: "2.000")), .writeState,
        ])
        #expect(m.children.isEmpty)
        #expect(m.phase == .running)
    }

    @Test func previousGenerationWorkerIsNotReplacedWhileRunning() {
        var m = PC(generation: 2, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = m.handle(.spawned(child(10, generation: 1)))
        _ = m.handle(.spawned(child(20, generation: 2)))
        _ = m.handle(.started(now: 0))
        _ = m.handle(.generationReady(now: 0))
        #expect(m.phase == .running)
        let ten = m.children[10]!
        #expect(m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 3 * sec)) == [
            .release(ten), .log(.notice, exitLog(10, .exited(code: 0), after: "3.000", previous: true)), .writeState,
        ])
    }

    @Test func unknownChildIsOnlyWarnedAbout() {
        var m = running([10])
        #expect(m.handle(.childExited(pid: 99, status: .exited(code: 0), now: sec)) == [
            .log(.warning, "unknown child (99) exited with code 0"),
        ])
        #expect(m.handle(.childExited(pid: 98, status: .signaled(signal: SIGKILL, coreDumped: false), now: sec)) == [
            .log(.warning, "unknown child (98) exited on signal 9 (SIGKILL)"),
        ])
        #expect(Set(m.children.keys) == [10])
    }

    @Test func unknownChildDoesNotEndAStop() {
        var m = running([])
        _ = m.handle(.signal(SIGQUIT, now: 0))
        #expect(m.handle(.childExited(pid: 99, status: .exited(code: 0), now: sec)) == [
            .log(.warning, "unknown child (99) exited with code 0"),
        ])
    }

    @Test func respawnKeepsThePoolOfTheExitedWorker() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        _ = m.handle(.spawned(child(10, pool: "api")))
        _ = m.handle(.started(now: 0))
        let out = m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 2 * sec))
        #expect(out.contains(.spawn(pool: "api")))
        #expect(out.contains(.log(.notice, "[pool api] child 10 exited with code 0 after 2.000 seconds from start")))
    }

    // MARK: 7. emergency restart

    let emergencyReason = "failed processes threshold (3 in 10 sec) is reached, initiating reload"

    func crash(_ signal: Int32) -> Status { .signaled(signal: signal, coreDumped: false) }

    @Test func threeCrashesWithinTheIntervalReload() {
        var m = running([10, 11, 12], emergency: .init(threshold: 3, intervalSeconds: 10))
        #expect(!m.handle(.childExited(pid: 10, status: crash(SIGSEGV), now: 1 * sec)).contains(.validateReload(reason: emergencyReason)))
        // A Swift runtime trap ends a worker with SIGILL (or SIGTRAP).
        #expect(!m.handle(.childExited(pid: 11, status: crash(SIGILL), now: 5 * sec)).contains(.validateReload(reason: emergencyReason)))
        let twelve = m.children[12]!
        #expect(m.handle(.childExited(pid: 12, status: crash(SIGABRT), now: 11 * sec)) == [
            .release(twelve),
            .log(.warning, exitLog(12, crash(SIGABRT), after: "11.000")),
            .validateReload(reason: emergencyReason),
            .spawn(pool: "www"),
            .writeState,
        ])
        #expect(m.handle(Self.checked) == [.bindNewListeners])
    }

    @Test(arguments: [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE])
    func everyCrashSignalCounts(signal: Int32) {
        var m = running([10, 11, 12], emergency: .init(threshold: 3, intervalSeconds: 10))
        _ = m.handle(.childExited(pid: 10, status: crash(signal), now: 1 * sec))
        _ = m.handle(.childExited(pid: 11, status: crash(signal), now: 2 * sec))
        #expect(m.handle(.childExited(pid: 12, status: crash(signal), now: 3 * sec)).contains(.validateReload(reason: emergencyReason)))
    }

    @Test func crashesSpreadOverMoreThanTheIntervalDoNotReload() {
        var m = running([10, 11, 12, 13], emergency: .init(threshold: 3, intervalSeconds: 10))
        var all: [PC.Command] = []
        all += m.handle(.childExited(pid: 10, status: crash(SIGSEGV), now: 1 * sec))
        all += m.handle(.childExited(pid: 11, status: crash(SIGTRAP), now: 6 * sec))
        all += m.handle(.childExited(pid: 12, status: crash(SIGSEGV), now: 11 * sec + 1))
        #expect(!all.contains(.validateReload(reason: emergencyReason)))
        // The window slides: 6 s, 11 s and 12 s are within 10 s of each other.
        #expect(m.handle(.childExited(pid: 13, status: crash(SIGSEGV), now: 12 * sec)).contains(.validateReload(reason: emergencyReason)))
    }

    @Test func crashesExactlyTheIntervalApartStillCount() {
        var m = running([10, 11, 12], emergency: .init(threshold: 3, intervalSeconds: 10))
        _ = m.handle(.childExited(pid: 10, status: crash(SIGSEGV), now: 1 * sec))
        _ = m.handle(.childExited(pid: 11, status: crash(SIGSEGV), now: 2 * sec))
        #expect(m.handle(.childExited(pid: 12, status: crash(SIGSEGV), now: 11 * sec)).contains(.validateReload(reason: emergencyReason)))
    }

    @Test func emergencyRestartCountsAfreshAfterFiring() {
        var m = running([10, 11, 12, 13, 14, 15], emergency: .init(threshold: 3, intervalSeconds: 10))
        var reloads: [Int32] = []
        for pid: Int32 in 10...15 {
            if m.handle(.childExited(pid: pid, status: crash(SIGSEGV), now: Int(pid) * sec)).contains(.validateReload(reason: emergencyReason)) {
                reloads.append(pid)
                _ = m.handle(.reloadAborted(reason: "invalid"))  // the reload ends; the next one may come
            }
        }
        #expect(reloads == [12, 15])
    }

    @Test(arguments: [(0, 10), (3, 0), (0, 0)])
    func disabledEmergencyRestartNeverReloads(threshold: Int, interval: Int) {
        let settings = PC.EmergencyRestart(threshold: threshold, intervalSeconds: interval)
        var m = running([10, 11, 12, 13, 14], emergency: settings)
        for pid: Int32 in 10...14 {
            let out = m.handle(.childExited(pid: pid, status: crash(SIGSEGV), now: 2 * sec))
            #expect(out.allSatisfy { if case .validateReload = $0 { false } else { true } })
        }
    }

    @Test func cleanAndStopExitsDoNotCount() {
        var m = running([10, 11, 12, 13, 14, 15, 16], emergency: .init(threshold: 3, intervalSeconds: 10))
        var all: [PC.Command] = []
        all += m.handle(.childExited(pid: 10, status: crash(SIGSEGV), now: 2 * sec))
        all += m.handle(.childExited(pid: 11, status: .exited(code: 0), now: 2 * sec))
        all += m.handle(.childExited(pid: 12, status: .exited(code: 1), now: 2 * sec))
        all += m.handle(.childExited(pid: 13, status: crash(SIGTERM), now: 2 * sec))
        all += m.handle(.childExited(pid: 14, status: crash(SIGKILL), now: 2 * sec))
        all += m.handle(.childExited(pid: 15, status: crash(SIGQUIT), now: 2 * sec))
        #expect(!all.contains(.validateReload(reason: emergencyReason)))
        // Only the SIGSEGV counted: one more crash makes two, below the threshold.
        #expect(!m.handle(.childExited(pid: 16, status: crash(SIGSEGV), now: 3 * sec)).contains(.validateReload(reason: emergencyReason)))
    }

    @Test func crashesWhileStoppingDoNotReload() {
        var m = running([10, 11, 12], emergency: .init(threshold: 3, intervalSeconds: 10))
        _ = m.handle(.signal(SIGQUIT, now: 0))
        var all: [PC.Command] = []
        for pid: Int32 in 10...12 { all += m.handle(.childExited(pid: pid, status: crash(SIGSEGV), now: sec)) }
        #expect(all.allSatisfy { if case .validateReload = $0 { false } else { true } })
        #expect(all.last == .exit(code: 0))
    }

    @Test func emergencyReasonNamesTheSettings() {
        var m = running([10, 11], emergency: .init(threshold: 2, intervalSeconds: 60))
        _ = m.handle(.childExited(pid: 10, status: crash(SIGSEGV), now: sec))
        #expect(m.handle(.childExited(pid: 11, status: crash(SIGSEGV), now: 50 * sec))
            .contains(.validateReload(reason: "failed processes threshold (2 in 60 sec) is reached, initiating reload")))
    }

    // MARK: 8. retire

    @Test func retireAsksAnIdleWorkerToQuit() {
        var m = running([10, 11])
        let t = 7 * sec
        #expect(m.handle(.retire(pid: 10, now: t)) == [
            .log(.debug, "[pool www] retiring idle child 10"), .askToQuit(pid: 10),
        ])
        #expect(m.children[10]?.retired == true)
        #expect(m.children[10]?.lifecycle == .quitting(deadline: t + 10 * sec))
        #expect(m.children[11]?.retired == false)
        #expect(m.children[11]?.lifecycle == .serving)
        #expect(m.nextDeadline == t + 10 * sec)
        #expect(m.phase == .running)
    }

    @Test func retiringAWorkerThatIsAlreadyStoppingDoesNothing() {
        var m = running([10, 11, 12])
        _ = m.handle(.retire(pid: 10, now: sec))
        #expect(m.handle(.retire(pid: 10, now: 2 * sec)) == [])
        #expect(m.children[10]?.lifecycle == .quitting(deadline: 11 * sec))
        _ = m.handle(.requestTimedOut(pid: 11, now: sec))
        #expect(m.handle(.retire(pid: 11, now: 2 * sec)) == [])
        #expect(m.children[11]?.retired == false)
        #expect(m.handle(.retire(pid: 99, now: 2 * sec)) == [])
        // A graceful stop's quitting worker is not turned into a retired one either.
        _ = m.handle(.signal(SIGQUIT, now: 3 * sec))
        #expect(m.handle(.retire(pid: 12, now: 4 * sec)) == [])
        #expect(m.children[12]?.retired == false)
    }

    @Test func retiredWorkerThatDoesNotQuitIsEscalated() {
        var m = running([10])
        _ = m.handle(.retire(pid: 10, now: 0))
        #expect(m.handle(.tick(now: 10 * sec)) == [
            .log(.warning, "[pool www] child 10 did not finish within process_control_timeout, sending SIGTERM"),
            .signal(pid: 10, signal: SIGTERM),
        ])
        #expect(m.children[10]?.lifecycle == .terminated(deadline: 11 * sec))
        #expect(m.children[10]?.retired == true)
        let out = m.handle(.childExited(pid: 10, status: crash(SIGTERM), now: 10 * sec + 1))
        #expect(!out.contains(.spawn(pool: "www")))
    }

    // MARK: 9. request timeout

    @Test func timedOutRequestIsTerminatedThenKilled() {
        var m = running([10, 11])
        let t = 5 * sec
        #expect(!m.isBeingTerminated(10))
        #expect(m.handle(.requestTimedOut(pid: 10, now: t)) == [.signal(pid: 10, signal: SIGTERM)])
        #expect(m.children[10]?.lifecycle == .terminated(deadline: t + sec))
        #expect(m.isBeingTerminated(10))
        #expect(!m.isBeingTerminated(11))
        #expect(!m.isBeingTerminated(99))
        #expect(m.nextDeadline == t + sec)

        #expect(m.handle(.requestTimedOut(pid: 10, now: t + 1)) == [])
        #expect(m.children[10]?.lifecycle == .terminated(deadline: t + sec))

        #expect(m.handle(.tick(now: t + sec - 1)) == [])
        #expect(m.handle(.tick(now: t + sec)) == [
            .log(.warning, "[pool www] child 10 still alive after SIGTERM, sending SIGKILL"),
            .signal(pid: 10, signal: SIGKILL),
        ])
        #expect(m.children[10]?.lifecycle == .killed)
        #expect(m.isBeingTerminated(10))
        #expect(m.nextDeadline == nil)
        #expect(m.handle(.requestTimedOut(pid: 10, now: t + 2 * sec)) == [])
        #expect(m.handle(.tick(now: t + 5 * sec)) == [])

        let ten = m.children[10]!
        let killed = crash(SIGKILL)
        #expect(m.handle(.childExited(pid: 10, status: killed, now: t + 2 * sec)) == [
            .release(ten), .log(.warning, exitLog(10, killed, after: "7.000")), .spawn(pool: "www"), .writeState,
        ])
        #expect(!m.isBeingTerminated(10))
    }

    @Test func timedOutRequestOfAQuittingWorkerIsTerminated() {
        var m = running([10, 11])
        _ = m.handle(.retire(pid: 10, now: 0))
        #expect(m.handle(.requestTimedOut(pid: 10, now: 2 * sec)) == [.signal(pid: 10, signal: SIGTERM)])
        #expect(m.children[10]?.lifecycle == .terminated(deadline: 3 * sec))
        // During a graceful stop too, with the one-second grace (not stopKillGrace).
        _ = m.handle(.signal(SIGQUIT, now: 2 * sec))
        #expect(m.handle(.requestTimedOut(pid: 11, now: 4 * sec)) == [.signal(pid: 11, signal: SIGTERM)])
        #expect(m.children[11]?.lifecycle == .terminated(deadline: 5 * sec))
        #expect(m.nextDeadline == 3 * sec)
    }

    @Test func timedOutRequestOfAnUnknownWorkerDoesNothing() {
        var m = running([10])
        #expect(m.handle(.requestTimedOut(pid: 99, now: 0)) == [])
        #expect(m.children[99] == nil)
    }

    // MARK: 10. other signals

    @Test func sigusr1ReopensLogsInEveryPhase() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        #expect(m.handle(.signal(SIGUSR1, now: 0)) == [.reopenLogs])
        m = running([10])
        #expect(m.handle(.signal(SIGUSR1, now: 0)) == [.reopenLogs])
        _ = m.handle(.signal(SIGQUIT, now: 0))
        #expect(m.handle(.signal(SIGUSR1, now: 0)) == [.reopenLogs])
        _ = m.handle(.signal(SIGTERM, now: 0))
        #expect(m.handle(.signal(SIGUSR1, now: 0)) == [.reopenLogs])
        #expect(m.phase == .terminating)
    }

    @Test func sigchldReapsInEveryPhase() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        #expect(m.handle(.signal(SIGCHLD, now: 0)) == [.reapChildren])
        m = running([10])
        #expect(m.handle(.signal(SIGCHLD, now: 0)) == [.reapChildren])
        _ = m.handle(.signal(SIGTERM, now: 0))
        #expect(m.handle(.signal(SIGCHLD, now: 0)) == [.reapChildren])
        var h = handingOver(at: 0)
        #expect(h.handle(.signal(SIGCHLD, now: 0)) == [.reapChildren])
    }

    @Test func otherSignalsAreIgnored() {
        var m = running([10])
        #expect(m.handle(.signal(SIGWINCH, now: 0)) == [])
        #expect(m.handle(.signal(SIGPIPE, now: 0)) == [])
        #expect(m.phase == .running)
    }

    // MARK: 11. nextDeadline

    @Test func nextDeadlineIsNilWithOnlyServingChildren() {
        let m = running([10, 11, 12])
        #expect(m.nextDeadline == nil)
        let empty = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: noEmergency)
        #expect(empty.nextDeadline == nil)
    }

    @Test func nextDeadlineIsTheEarliestDueStep() {
        var m = running([10, 11, 12, 13])
        _ = m.handle(.retire(pid: 10, now: 0))                 // quitting until 10 s
        #expect(m.nextDeadline == 10 * sec)
        _ = m.handle(.requestTimedOut(pid: 11, now: 8 * sec))  // terminated until 9 s
        #expect(m.nextDeadline == 9 * sec)
        _ = m.handle(.childExited(pid: 12, status: .exited(code: 1), now: sec / 2))  // respawn at 1.5 s
        #expect(m.nextDeadline == sec + sec / 2)
        _ = m.handle(.tick(now: 2 * sec))
        #expect(m.nextDeadline == 9 * sec)
        _ = m.handle(.tick(now: 9 * sec))                     // 11 killed: no deadline any more
        #expect(m.nextDeadline == 10 * sec)
    }

    @Test func nextDeadlineIncludesTheHandOverDeadline() {
        let t0 = 100 * sec
        var m = handingOver(at: t0)
        #expect(m.nextDeadline == t0 + 15 * sec)               // before the inherited worker's t0 + 20 s
        _ = m.handle(.requestTimedOut(pid: 30, now: t0))
        #expect(m.nextDeadline == t0 + sec)
        _ = m.handle(.tick(now: t0 + sec))
        #expect(m.nextDeadline == t0 + 15 * sec)
        _ = m.handle(.childExited(pid: 31, status: .exited(code: 1), now: t0 + sec / 2))
        #expect(m.nextDeadline == t0 + sec + sec / 2)
    }
}
