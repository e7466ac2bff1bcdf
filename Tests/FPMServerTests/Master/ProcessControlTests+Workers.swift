import FPMConfiguration
@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// Retiring, request timeouts, other signals, the next deadline. Part of `ProcessControlTests`.
extension ProcessControlTests {
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
