@testable import FPMServer
import FPMStatus
import FPMSystem
import Glibc
import Testing

/// Stops that drain (graceful_sigterm), `fpmctl drain`, and the respawn backoff of a pool whose
/// workers cannot start, on a made-up clock.
@Suite struct ProcessControlStopTests {
    typealias PC = ProcessControl
    let sec = 1_000_000_000

    func child(_ pid: Int32, pool: String = "www", startedAt: Int = 0) -> PC.Child {
        PC.Child(pid: pid, pool: pool, generation: 1, slot: Int(pid % 10), control: 100 + pid, startedMono: startedAt)
    }

    func running(_ pids: [Int32] = [10, 11], pool: String = "www", graceful: Bool = false) -> PC {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10),
                   emergencyRestart: .init(threshold: 0, intervalSeconds: 0))
        m.gracefulSigterm = graceful
        for pid in pids { _ = m.handle(.spawned(child(pid, pool: pool))) }
        _ = m.handle(.started(now: 0))
        return m
    }

    // MARK: graceful_sigterm

    @Test func sigtermStopsAtOnceByDefault() {
        var m = running()
        #expect(m.handle(.signal(SIGTERM, now: sec)) == [
            .log(.notice, "Terminating ..."), .signal(pid: 10, signal: SIGTERM), .signal(pid: 11, signal: SIGTERM), .writeState,
        ])
        #expect(m.phase == .terminating)
    }

    @Test func gracefulSigtermStopsLikeSigquit() {
        var m = running(graceful: true)
        #expect(m.handle(.signal(SIGTERM, now: sec)) == [
            .log(.notice, "Finishing ..."), .finish(pid: 10), .finish(pid: 11), .writeState,
        ])
        #expect(m.phase == .finishing)
        #expect(m.children[10]?.lifecycle == .quitting(deadline: 11 * sec))
        // A second SIGTERM (a supervisor repeating itself) changes nothing.
        #expect(m.handle(.signal(SIGTERM, now: 2 * sec)) == [])
        #expect(m.phase == .finishing)
        // SIGINT is still the fast stop.
        #expect(m.handle(.signal(SIGINT, now: 3 * sec)).contains(.signal(pid: 10, signal: SIGTERM)))
        #expect(m.phase == .terminating)
    }

    @Test func sigintStaysAFastStopUnderGracefulSigterm() {
        var m = running(graceful: true)
        #expect(m.handle(.signal(SIGINT, now: sec)).first == .log(.notice, "Terminating ..."))
        #expect(m.phase == .terminating)
    }

    // MARK: readiness

    @Test func aStopWithdrawsReadinessFromItsFirstMoment() {
        var quit = running()
        #expect(quit.readinessWithdrawn == .ready)
        _ = quit.handle(.signal(SIGQUIT, now: sec))
        #expect(quit.readinessWithdrawn == .stopping)
        var term = running()
        _ = term.handle(.signal(SIGTERM, now: sec))
        #expect(term.readinessWithdrawn == .stopping)
    }

    @Test func drainWithdrawsReadinessAndKeepsServingUntilUndrain() {
        var m = running()
        #expect(m.handle(.signal(Signals.drain, now: sec)) == [
            .log(.notice, "draining: readiness is off, requests are still served (fpmctl undrain turns it back on)"), .writeState,
        ])
        #expect(m.draining && m.readinessWithdrawn == .draining && m.phase == .running)
        // Twice is once; workers are still replaced.
        #expect(m.handle(.signal(Signals.drain, now: sec)) == [])
        #expect(m.handle(.childExited(pid: 10, status: .exited(code: 0), now: 5 * sec)).contains(.spawn(pool: "www")))
        #expect(m.handle(.signal(Signals.undrain, now: 6 * sec)) == [.log(.notice, "undrained: readiness is back on"), .writeState])
        #expect(!m.draining && m.readinessWithdrawn == .ready)
        #expect(m.handle(.signal(Signals.undrain, now: 6 * sec)) == [])
    }

    @Test func aStopDuringADrainSaysStopping() {
        var m = running()
        _ = m.handle(.signal(Signals.drain, now: sec))
        _ = m.handle(.signal(SIGQUIT, now: 2 * sec))
        #expect(m.readinessWithdrawn == .stopping)
        // Undrain cannot bring readiness back during a stop.
        #expect(m.handle(.signal(Signals.undrain, now: 3 * sec)) == [])
        #expect(m.readinessWithdrawn == .stopping)
    }

    // MARK: respawn backoff

    /// Fails every worker of `m` alive now, each `lifetime` after its start, at `now`.
    func failAll(_ m: inout PC, now: Int) -> [PC.Command] {
        var out: [PC.Command] = []
        for pid in m.children.keys.sorted() { out += m.handle(.childExited(pid: pid, status: .exited(code: 1), now: now)) }
        return out
    }

    func warnings(_ out: [PC.Command]) -> [String] {
        out.compactMap { if case .log(.warning, let line) = $0 { line } else { nil } }
    }

    @Test func delaysDoubleOncePerRoundUpToTheCap() {
        var m = running([10, 11, 12])
        var now = sec / 100
        var delays: [Int] = []
        var logged: [String] = []
        var nextPid: Int32 = 20
        for _ in 0..<8 {
            let out = failAll(&m, now: now)
            logged += warnings(out)
            guard let due = m.nextDeadline else { Issue.record("no respawn scheduled"); return }
            delays.append((due - now) / sec)
            // The round's three replacements fall due together, and fail 10 ms after their start.
            let spawns = m.handle(.tick(now: due)).filter { $0 == .spawn(pool: "www") }.count
            #expect(spawns == 3)
            for _ in 0..<spawns {
                _ = m.handle(.spawned(child(nextPid, startedAt: due)))
                nextPid += 1
            }
            now = due + sec / 100
        }
        #expect(delays == [1, 2, 4, 8, 16, 32, 32, 32])
        // One line per step (not per worker, not per round once at the cap).
        #expect(logged.count == 6)
        #expect(logged.first == "[pool www] child 10 exited with code 1 after 0.010 seconds from start; the pool's workers exit at start: next respawn in 1 s")
        #expect(logged.last?.hasSuffix("next respawn in 32 s") == true)
    }

    @Test func aWorkerThatSurvivesResetsTheBackoff() {
        var m = running([10])
        _ = m.handle(.childExited(pid: 10, status: .exited(code: 1), now: sec / 10))
        _ = m.handle(.tick(now: sec / 10 + sec))
        _ = m.handle(.spawned(child(20, startedAt: sec / 10 + sec)))
        _ = m.handle(.childExited(pid: 20, status: .exited(code: 1), now: sec / 10 + sec + 1))
        #expect(m.backoff.pools["www"]?.step == 2)
        let second = sec / 10 + sec + 1 + 2 * sec
        #expect(m.nextDeadline == second)
        _ = m.handle(.tick(now: second))
        _ = m.handle(.spawned(child(30, startedAt: second)))
        // Still alive a second later: the pool works again, said once.
        #expect(m.handle(.tick(now: second + sec)) == [
            .log(.notice, "[pool www] a worker has started: respawns are immediate again"), .writeState,
        ])
        #expect(m.backoff.pools.isEmpty && m.downPools.isEmpty)
        // The next worker that cannot start waits 1 s again.
        let later = second + 10 * sec
        _ = m.handle(.spawned(child(40, startedAt: later)))
        _ = m.handle(.childExited(pid: 40, status: .exited(code: 1), now: later + sec / 2))
        #expect(m.backoff.pools["www"]?.step == 1)
        #expect(m.nextDeadline == later + sec / 2 + sec)
    }

    @Test func aCrashOrALateErrorIsNotAStartFailure() {
        var m = running([10, 11])
        #expect(m.handle(.childExited(pid: 10, status: .signaled(signal: SIGSEGV, coreDumped: false), now: sec / 10))
            .contains(.spawn(pool: "www")))
        #expect(m.handle(.childExited(pid: 11, status: .exited(code: 1), now: 5 * sec)).contains(.spawn(pool: "www")))
        #expect(m.backoff.pools.isEmpty && m.nextDeadline == nil)
    }

    @Test func aPoolWithNoLiveWorkerIsDownWithItsLastExitOthersAreNot() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: .init(threshold: 0, intervalSeconds: 0))
        _ = m.handle(.spawned(child(10, pool: "bad")))
        _ = m.handle(.spawned(child(11, pool: "bad")))
        _ = m.handle(.spawned(child(12, pool: "good")))
        _ = m.handle(.started(now: 0))
        _ = m.handle(.childExited(pid: 10, status: .exited(code: 78), now: sec / 100))
        // One worker of the pool is still alive: not down yet.
        #expect(m.poolIsDown("bad") == nil)
        _ = m.handle(.childExited(pid: 11, status: .exited(code: 78), now: sec / 50))
        let down = m.poolIsDown("bad")
        #expect(down?.reason == "its workers exit at start (last: exited with code 78 after 0.020 seconds from start)")
        #expect(down?.nextRespawn == sec / 100 + sec)
        #expect(down?.retryAfterSeconds(now: sec / 50) == 1)
        #expect(m.poolIsDown("good") == nil)
        #expect(Set(m.downPools.keys) == ["bad"])
        // A worker forked for it: not down while it lives.
        _ = m.handle(.tick(now: sec / 100 + sec))
        _ = m.handle(.spawned(child(20, pool: "bad", startedAt: sec / 100 + sec)))
        #expect(m.poolIsDown("bad") == nil)
        // A stop: nothing is down any more (nothing is respawned).
        _ = m.handle(.signal(SIGQUIT, now: 2 * sec))
        #expect(m.downPools.isEmpty)
    }

    @Test func aPoolWithoutAServingChildIsUnstaffedWhateverTheReason() {
        var m = PC(generation: 1, timings: .init(processControlTimeout: 10), emergencyRestart: .init(threshold: 0, intervalSeconds: 0))
        _ = m.handle(.spawned(child(10, pool: "a")))
        _ = m.handle(.spawned(child(11, pool: "b")))
        _ = m.handle(.started(now: 0))
        #expect(m.poolsWithoutWorker(among: ["a", "b", "c"]) == ["c"])
        // A retired (quitting) worker takes no new connection: its pool is unstaffed, though
        // not down in the backoff's sense.
        _ = m.handle(.retire(pid: 10, now: sec))
        #expect(m.poolsWithoutWorker(among: ["a", "b"]) == ["a"])
        #expect(m.poolIsDown("a") == nil)
        // A crash mid-life: unstaffed until the respawn, which is not a start failure either.
        _ = m.handle(.childExited(pid: 11, status: .signaled(signal: SIGSEGV, coreDumped: false), now: 5 * sec))
        #expect(m.poolsWithoutWorker(among: ["a", "b"]) == ["a", "b"])
        _ = m.handle(.spawned(child(20, pool: "b", startedAt: 5 * sec)))
        #expect(m.poolsWithoutWorker(among: ["a", "b"]) == ["a"])
        // Stopping: the master answers nothing itself.
        _ = m.handle(.signal(SIGQUIT, now: 6 * sec))
        #expect(m.poolsWithoutWorker(among: ["a", "b"]).isEmpty)
    }

    @Test func backoffDelaysAreCapped() {
        let b = PC.RespawnBackoff()
        #expect((1...8).map { b.delay(step: $0) / sec } == [1, 2, 4, 8, 16, 32, 32, 32])
        #expect(b.delay(step: 1000) == 32 * sec)
    }
}
