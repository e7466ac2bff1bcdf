@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// A reload's pool preparations as process control runs them: one after the other, in
/// processes the master watches from its loop, with a deadline at the tick, and their exits
/// told apart from workers'.
extension ProcessControlTests {
    /// Running, generation 1, one worker (pid 10), preparation limit `limit` seconds.
    func runningToPrepare(limit: Int = 60) -> PC {
        var timings = PC.Timings(processControlTimeout: 10)
        timings.preparationLimit = limit * sec
        var m = PC(generation: 1, timings: timings, emergencyRestart: .init(threshold: 0, intervalSeconds: 0))
        _ = m.handle(.spawned(PC.Child(pid: 10, pool: "www", generation: 1, slot: 0, control: 110, startedMono: 0)))
        _ = m.handle(.started(now: 0))
        return m
    }

    /// SIGUSR2, the configuration checked with `pools` to prepare, the first one forked as pid 50 at `now`.
    func preparing(_ m: inout PC, pools: [String] = ["www"], now: Int = 0) {
        #expect(m.handle(.signal(SIGUSR2, now: now)) == [.validateReload(reason: "Reloading in progress ...")])
        #expect(m.handle(.reloadChecked(preparing: pools)) == [.startPreparation(pool: pools[0])])
        #expect(m.handle(.preparationStarted(pool: pools[0], pid: 50, now: now)) == [])
        #expect(m.preparation?.pid == 50)
    }

    @Test func withNothingToPrepareTheReloadGoesOnAtOnce() {
        var m = runningToPrepare()
        _ = m.handle(.signal(SIGUSR2, now: 0))
        #expect(m.handle(.reloadChecked(preparing: [])) == [.finishReload])
        #expect(m.preparation == nil)
        #expect(m.handle(.reloadValidated) == [.execReload])
    }

    @Test func preparationsRunOneAfterTheOtherThenTheReloadGoesOn() {
        var m = runningToPrepare()
        preparing(&m, pools: ["a", "b"])
        // Its exit arrives through the reaping, not as a worker's.
        #expect(m.handle(.childExited(pid: 50, status: .exited(code: 0), now: sec))
                == [.preparationExited(pool: "a", pid: 50, status: .exited(code: 0), timedOut: false)])
        #expect(m.children.keys.sorted() == [10])
        #expect(m.handle(.preparationFinished(pool: "a", failure: nil)) == [.startPreparation(pool: "b")])
        #expect(m.handle(.preparationStarted(pool: "b", pid: 51, now: sec)) == [])
        #expect(m.nextDeadline == 61 * sec)
        _ = m.handle(.childExited(pid: 51, status: .exited(code: 0), now: 2 * sec))
        #expect(m.handle(.preparationFinished(pool: "b", failure: nil)) == [.finishReload])
        #expect(m.preparation == nil)
        #expect(m.handle(.reloadValidated) == [.execReload])
    }

    @Test func aFailedPreparationAbortsTheReloadAndSkipsTheRest() {
        var m = runningToPrepare()
        preparing(&m, pools: ["a", "b"])
        _ = m.handle(.childExited(pid: 50, status: .exited(code: 1), now: sec))
        #expect(m.handle(.preparationFinished(pool: "a", failure: "[pool a] preparation failed"))
                == [.abortReload(reason: "[pool a] preparation failed")])
        #expect(m.preparation == nil)
        #expect(m.phase == .running)
        // The next reload is taken.
        #expect(m.handle(.signal(SIGUSR2, now: 2 * sec)) == [.validateReload(reason: "Reloading in progress ...")])
    }

    @Test func theDeadlineIsCheckedAtTheTickAndKillsThePreparation() {
        var m = runningToPrepare(limit: 2)
        preparing(&m, now: sec)
        #expect(m.nextDeadline == 3 * sec)
        #expect(m.handle(.tick(now: 2 * sec)) == [])
        #expect(m.handle(.tick(now: 3 * sec)) == [.signal(pid: 50, signal: SIGKILL)])
        #expect(m.handle(.tick(now: 4 * sec)) == [], "killed once")
        #expect(m.nextDeadline == nil)
        #expect(m.handle(.childExited(pid: 50, status: .signaled(signal: SIGKILL, coreDumped: false), now: 4 * sec))
                == [.preparationExited(pool: "www", pid: 50, status: .signaled(signal: SIGKILL, coreDumped: false), timedOut: true)])
        #expect(m.handle(.preparationFinished(pool: "www", failure: "too slow")) == [.abortReload(reason: "too slow")])
    }

    @Test func aReloadWhilePreparingIsIgnoredWithANotice() {
        var m = runningToPrepare()
        preparing(&m)
        #expect(m.handle(.signal(SIGUSR2, now: sec))
                == [.log(.notice, "a reload is already being prepared ([pool www]); this reload request is ignored")])
        #expect(m.handle(.signal(SIGHUP, now: sec)).allSatisfy { if case .log = $0 { return true } else { return false } })
        // A stale check cannot start a second one.
        #expect(m.handle(.reloadChecked(preparing: ["www"])) == [])
        #expect(m.preparation?.pid == 50)
    }

    @Test func aWorkerExitWhilePreparingIsStillAWorkers() {
        var m = runningToPrepare()
        preparing(&m)
        let out = m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 5 * sec))
        #expect(out.contains(.spawn(pool: "www")))
        #expect(!out.contains { if case .preparationExited = $0 { return true } else { return false } })
        #expect(m.preparation?.pid == 50)
    }

    @Test(arguments: [SIGTERM, SIGQUIT])
    func aStopEndsThePreparationAndExitsOnceItIsGone(signal: Int32) {
        var m = runningToPrepare()
        preparing(&m, pools: ["a", "b"])
        let out = m.handle(.signal(signal, now: sec))
        #expect(out.contains(.signal(pid: 50, signal: SIGTERM)))
        // The worker goes.
        _ = m.handle(.childExited(pid: 10, status: .exited(code: 0), now: sec))
        #expect(!m.handle(.tick(now: sec)).contains(.exit(code: ExitCodes.ok)))
        // SIGKILL after the stop's kill grace when SIGTERM is not enough.
        #expect(m.handle(.tick(now: 11 * sec)) == [.signal(pid: 50, signal: SIGKILL)])
        #expect(m.handle(.childExited(pid: 50, status: .signaled(signal: SIGKILL, coreDumped: false), now: 11 * sec))
                == [.preparationExited(pool: "a", pid: 50, status: .signaled(signal: SIGKILL, coreDumped: false), timedOut: true)])
        // Abandoned, not aborted (nor is pool b started); then the master exits.
        let end = m.handle(.preparationFinished(pool: "a", failure: "killed"))
        #expect(end.first == .log(.notice, "reload abandoned: the master is stopping"))
        #expect(end.last == .exit(code: ExitCodes.ok))
        #expect(!end.contains(.startPreparation(pool: "b")))
        #expect(m.preparation == nil)
    }

    @Test func noEmergencyRestartWhilePreparing() {
        var timings = PC.Timings(processControlTimeout: 10)
        timings.preparationLimit = 60 * sec
        var m = PC(generation: 1, timings: timings, emergencyRestart: .init(threshold: 1, intervalSeconds: 10))
        _ = m.handle(.spawned(PC.Child(pid: 10, pool: "www", generation: 1, slot: 0, control: 110, startedMono: 0)))
        _ = m.handle(.started(now: 0))
        preparing(&m)
        let out = m.handle(.childExited(pid: 10, status: .signaled(signal: SIGSEGV, coreDumped: false), now: sec))
        #expect(!out.contains { if case .validateReload = $0 { return true } else { return false } })
    }
}
