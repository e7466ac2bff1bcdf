import FPMConfiguration
@testable import FPMServer
import FPMSystem
import Glibc
import Testing

/// Children that exit while running, and the emergency restart. Part of `ProcessControlTests`.
extension ProcessControlTests {
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

    var emergencyReason: String { "failed processes threshold (3 in 10 sec) is reached, initiating reload" }

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
}
