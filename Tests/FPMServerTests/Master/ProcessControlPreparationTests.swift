import FPMConfiguration
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

    /// SIGUSR2, the configuration checked with `pools` to prepare, the first one forked as pid 50
    /// (output on descriptor 70) at `now`.
    func preparing(_ m: inout PC, pools: [String] = ["www"], now: Int = 0) {
        #expect(m.handle(.signal(SIGUSR2, now: now)) == [.validateReload(reason: "Reloading in progress ...")])
        #expect(m.handle(.reloadChecked(candidate: FPMConfiguration(), preparing: pools)) == [.startPreparation(pool: pools[0])])
        #expect(m.handle(.preparationStarted(pool: pools[0], pid: 50, output: 70, now: now)) == [.writeState])
        #expect(m.preparation?.pid == 50)
    }

    func killed(_ signal: Int32) -> Status { .signaled(signal: signal, coreDumped: false) }

    @Test func withNothingToPrepareTheReloadGoesOnAtOnce() {
        var m = runningToPrepare()
        _ = m.handle(.signal(SIGUSR2, now: 0))
        #expect(m.handle(.reloadChecked(candidate: FPMConfiguration(), preparing: [])) == [.bindNewListeners])
        #expect(m.preparation == nil)
        #expect(m.handle(.listenersBound([])) == [.execReload])
    }

    @Test func preparationsRunOneAfterTheOtherThenTheReloadGoesOn() {
        var m = runningToPrepare()
        preparing(&m, pools: ["a", "b"])
        // Its exit arrives through the reaping, not as a worker's: the rest of its output is collected.
        #expect(m.handle(.childExited(pid: 50, status: .exited(code: 0), now: sec)) == [.collectPreparation(pool: "a", output: 70)])
        #expect(m.children.keys.sorted() == [10])
        #expect(m.handle(.preparationCollected(pool: "a", now: sec))
                == [.closePreparationOutput(70), .log(.notice, "[pool a] prepared in 1000 ms"), .startPreparation(pool: "b")])
        #expect(m.handle(.preparationStarted(pool: "b", pid: 51, output: nil, now: sec)) == [.writeState])
        #expect(m.nextDeadline == 61 * sec)
        _ = m.handle(.childExited(pid: 51, status: .exited(code: 0), now: 2 * sec))
        #expect(m.handle(.preparationCollected(pool: "b", now: 2 * sec)) == [.log(.notice, "[pool b] prepared in 1000 ms"), .bindNewListeners])
        #expect(m.preparation == nil)
        #expect(m.handle(.listenersBound([])) == [.execReload])
    }

    @Test func aFailedPreparationAbortsTheReloadAndSkipsTheRest() {
        var m = runningToPrepare()
        preparing(&m, pools: ["a", "b"])
        #expect(m.handle(.preparationOutput(Array("ERROR: no database\n".utf8))) == [])
        #expect(m.handle(.preparationOutputEnded) == [.closePreparationOutput(70)])
        _ = m.handle(.childExited(pid: 50, status: .exited(code: 1), now: sec))
        #expect(m.handle(.preparationCollected(pool: "a", now: sec)) == [
            .log(.error, "[pool a] preparation failed (exited with code 1): no database"),
            .log(.error, "reload aborted: the new configuration is invalid; generation 1 keeps serving"),
            .writeState,
        ])
        #expect(m.preparation == nil)
        #expect(m.reload.failures == 1)
        #expect(m.reload.lastError == "[pool a] preparation failed (exited with code 1): no database")
        #expect(m.phase == .running)
        // The next reload is taken.
        #expect(m.handle(.signal(SIGUSR2, now: 2 * sec)) == [.validateReload(reason: "Reloading in progress ...")])
    }

    @Test func aPreparationThatCannotStartAbortsTheReload() {
        var m = runningToPrepare()
        _ = m.handle(.signal(SIGUSR2, now: 0))
        _ = m.handle(.reloadChecked(candidate: FPMConfiguration(), preparing: ["a"]))
        let out = m.handle(.preparationFinished(pool: "a", failure: "[pool a] preparation not started: fork: EAGAIN"))
        #expect(out.first == .log(.error, "[pool a] preparation not started: fork: EAGAIN"))
        #expect(out.last == .writeState)
        #expect(m.reload.step == .idle)
        #expect(m.reload.failures == 1)
    }

    @Test func theOutputIsKeptUpToItsLimit() {
        var m = runningToPrepare()
        preparing(&m)
        _ = m.handle(.preparationOutput([UInt8](repeating: 65, count: PoolPreparation.outputLimit - 10)))
        _ = m.handle(.preparationOutput([UInt8](repeating: 66, count: 100)))
        #expect(m.preparation?.text.count == PoolPreparation.outputLimit)
        #expect(m.preparation?.text.last == 66)
    }

    @Test func theDeadlineIsCheckedAtTheTickAndKillsThePreparation() {
        var m = runningToPrepare(limit: 2)
        preparing(&m, now: sec)
        #expect(m.nextDeadline == 3 * sec)
        #expect(m.handle(.tick(now: 2 * sec)) == [])
        #expect(m.handle(.tick(now: 3 * sec)) == [.signal(pid: 50, signal: SIGKILL)])
        #expect(m.handle(.tick(now: 4 * sec)) == [], "killed once")
        #expect(m.nextDeadline == nil)
        #expect(m.handle(.childExited(pid: 50, status: killed(SIGKILL), now: 4 * sec)) == [.collectPreparation(pool: "www", output: 70)])
        let out = m.handle(.preparationCollected(pool: "www", now: 4 * sec))
        #expect(out.contains(.log(.error, "[pool www] preparation did not finish within 2 s and was killed")))
        #expect(m.reload.step == .idle)
    }

    @Test func aReloadWhilePreparingIsIgnoredWithANotice() {
        var m = runningToPrepare()
        preparing(&m)
        #expect(m.handle(.signal(SIGUSR2, now: sec))
                == [.log(.notice, "a reload is already being prepared ([pool www]); this reload request is ignored")])
        #expect(m.handle(.signal(SIGHUP, now: sec)).allSatisfy { if case .log = $0 { return true } else { return false } })
        // A stale check cannot start a second one.
        #expect(m.handle(.reloadChecked(candidate: FPMConfiguration(), preparing: ["www"])) == [])
        #expect(m.preparation?.pid == 50)
    }

    @Test func aWorkerExitWhilePreparingIsStillAWorkers() {
        var m = runningToPrepare()
        preparing(&m)
        let out = m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 5 * sec))
        #expect(out.contains(.spawn(pool: "www")))
        #expect(!out.contains { if case .collectPreparation = $0 { return true } else { return false } })
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
        #expect(m.handle(.childExited(pid: 50, status: killed(SIGKILL), now: 11 * sec)) == [.collectPreparation(pool: "a", output: 70)])
        // Abandoned, not aborted (nor is pool b started); then the master exits.
        let end = m.handle(.preparationCollected(pool: "a", now: 11 * sec))
        #expect(end.first == .closePreparationOutput(70))
        #expect(end.contains(.log(.notice, "reload abandoned: the master is stopping")))
        #expect(end.last == .exit(code: ExitCodes.ok))
        #expect(!end.contains(.startPreparation(pool: "b")))
        #expect(m.preparation == nil)
        #expect(m.reload.failures == 0)
    }

    @Test func aStopWhileThePreparationIsForkedEndsItWhenItStarts() {
        var m = runningToPrepare()
        _ = m.handle(.signal(SIGUSR2, now: 0))
        _ = m.handle(.reloadChecked(candidate: FPMConfiguration(), preparing: ["a"]))
        // SIGQUIT is handled before the fork's answer.
        _ = m.handle(.signal(SIGQUIT, now: 0))
        #expect(m.handle(.preparationStarted(pool: "a", pid: 50, output: 70, now: 0)) == [.signal(pid: 50, signal: SIGTERM), .writeState])
        #expect(m.nextDeadline == 10 * sec)
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
