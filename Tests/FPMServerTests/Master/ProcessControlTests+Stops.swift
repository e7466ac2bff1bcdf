import FPMConfiguration
@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// Stops: graceful, SIGTERM during a graceful one, fast with no children. Part of `ProcessControlTests`.
extension ProcessControlTests {
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
}
