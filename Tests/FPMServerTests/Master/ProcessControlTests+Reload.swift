import FPMConfiguration
@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// Reload and hand-over. Part of `ProcessControlTests`.
extension ProcessControlTests {
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
}
