import FPMStatus
import FPMSystem
import Glibc

/// The master's process control as one pure state machine: events in (a signal, a child's
/// exit, the clock, the new generation being ready, a reload validated), commands out (ask a
/// worker to quit, signal it, fork one, reload, write the state file, exit). It does no I/O
/// and reads no clock, so every rule — SIGQUIT → quit → SIGTERM after process_control_timeout →
/// SIGKILL a second later, a reload while a reload hands over, SIGTERM during a graceful stop,
/// a drain, the backoff of a pool whose workers cannot start (`+Backoff`, `+Readiness`) — is
/// unit-tested with made-up times. `Master` feeds it and carries out what it says.
///
/// What it does not decide: how many workers a pool wants (`ProcessManagerPolicy`) and which
/// requests are too slow (`RequestWatch`); those come in as `retire` and `requestTimedOut`.
package struct ProcessControl: Sendable {
    /// The master's phase. php-fpm's running/finishing/terminating, plus the start and the
    /// hand-over that follows a reload.
    package enum Phase: Equatable, Sendable {
        /// Pools are being opened and the first workers forked.
        case starting
        case running
        /// After a reload: the new generation's workers are starting while the previous
        /// generation keeps serving; at the deadline the previous one is retired regardless.
        case handingOver(deadline: Int)
        /// SIGQUIT (and SIGTERM under `graceful_sigterm`): every worker finishes the request in
        /// hand and serves the connections waiting on the listener, then the master exits.
        case finishing
        /// SIGINT, and SIGTERM without `graceful_sigterm`: workers are stopped now.
        case terminating

        /// Whether workers are replaced when they exit and new work (reloads, pm) is taken on.
        package var isServing: Bool {
            switch self {
            case .running, .handingOver: return true
            case .starting, .finishing, .terminating: return false
            }
        }
    }

    /// Where one child is in its life, with the moment the next step is due.
    package enum Lifecycle: Equatable, Sendable {
        case serving
        /// Asked to finish its request and exit; SIGTERM at `deadline`.
        case quitting(deadline: Int)
        /// SIGTERM sent; SIGKILL at `deadline`.
        case terminated(deadline: Int)
        /// SIGKILL sent; only its exit is awaited.
        case killed

        var deadline: Int? {
            switch self {
            case .serving, .killed: return nil
            case .quitting(let d), .terminated(let d): return d
            }
        }
    }

    /// A child process as process control tracks it.
    package struct Child: Equatable, Sendable {
        package var pid: Int32
        package var pool: String
        package var generation: Int
        /// Its scoreboard slot; nil for a worker inherited from the previous generation.
        package var slot: Int?
        /// The master's end of the worker's control channel; nil for `exec` workers.
        package var control: Int32?
        package var startedMono: Int
        package var lifecycle: Lifecycle = .serving
        /// Retired by the process manager (idle): not replaced when it exits.
        package var retired = false

        package var isExec: Bool { control == nil }

        package init(pid: Int32, pool: String, generation: Int, slot: Int?, control: Int32?, startedMono: Int,
                     lifecycle: Lifecycle = .serving) {
            self.pid = pid
            self.pool = pool
            self.generation = generation
            self.slot = slot
            self.control = control
            self.startedMono = startedMono
            self.lifecycle = lifecycle
        }
    }


    /// The phase without the hand-over, which is the reload's (`reload.handoverDeadline`).
    private var stage = Phase.starting
    package private(set) var generation: Int
    package private(set) var children: [Int32: Child] = [:]
    /// The reload, from its request to the hand-over, as one value (`ReloadState.swift`).
    package internal(set) var reload: Reload
    package let timings: Timings
    package let emergencyRestart: EmergencyRestart
    private var crashTimes: [Int] = []
    /// Pools whose worker exited too soon after its start, with when to fork its replacement.
    private var delayedRespawns: [(pool: String, at: Int)] = []
    /// The pools whose workers cannot start, and how long their respawns wait (`+Backoff`).
    package internal(set) var backoff = RespawnBackoff()
    /// `fpmctl drain`: readiness off while serving goes on (`+Readiness`).
    package internal(set) var draining = false
    /// `graceful_sigterm = yes`: SIGTERM stops like SIGQUIT.
    package var gracefulSigterm = false

    /// `reloadFailures`/`lastReloadError`: what a previous image of this master counted.
    package init(generation: Int, timings: Timings, emergencyRestart: EmergencyRestart, reloadFailures: Int = 0,
                 lastReloadError: String = "") {
        self.generation = generation
        self.timings = timings
        self.emergencyRestart = emergencyRestart
        self.reload = Reload(failures: reloadFailures, lastError: lastReloadError)
    }

    package var phase: Phase {
        if stage == .running, let deadline = reload.handoverDeadline { return .handingOver(deadline: deadline) }
        return stage
    }

    /// The earliest moment something is due (an escalation, the hand-over deadline, a delayed
    /// respawn), so the master's wait can end then.
    package var nextDeadline: Int? {
        var next: Int? = nil
        func consider(_ t: Int?) { if let t { next = min(next ?? t, t) } }
        for child in children.values { consider(child.lifecycle.deadline) }
        if case .handingOver(let deadline) = phase { consider(deadline) }
        if let p = reload.preparation, p.pid != nil, !p.killed { consider(p.deadline) }
        for respawn in delayedRespawns { consider(respawn.at) }
        return next
    }

    /// Live children of the serving generation in `pool`.
    package func current(in pool: String) -> [Child] {
        children.values.filter { $0.pool == pool && $0.generation == generation }
    }

    /// ``current(in:)`` for every pool at once, in one pass over the children.
    package func currentByPool() -> [String: [Child]] {
        var byPool: [String: [Child]] = [:]
        for child in children.values where child.generation == generation { byPool[child.pool, default: []].append(child) }
        return byPool
    }

    /// Handles one event; returns what the master must do, in order.
    package mutating func handle(_ event: Event) -> [Command] {
        var out: [Command] = []
        switch event {
        case .started(let now):
            // A stop that arrived while starting stands.
            guard stage == .starting else { break }
            stage = .running
            if children.values.contains(where: { $0.generation < generation }) {
                reload.handoverDeadline = now + timings.handoverLimit
            } else {
                // A reload whose previous generation had no worker left: nothing to hand over.
                if generation > 1 { out.append(.log(.notice, "generation \(generation) is serving")) }
            }
            out.append(.writeState)
        case .spawned(let child):
            children[child.pid] = child
        case .signal(let signal, let now):
            onSignal(signal, now: now, into: &out)
        case .childExited(let pid, let status, let now):
            onExit(pid: pid, status: status, now: now, into: &out)
        case .tick(let now):
            onTick(now: now, into: &out)
        case .generationReady(let now):
            if case .handingOver = phase { handOver(now: now, into: &out) }
        case .reloadChecked, .preparationStarted, .preparationOutput, .preparationOutputEnded, .preparationCollected,
             .preparationFinished, .listenersBound, .execFailed, .reloadAborted:
            onReloadEvent(event, into: &out)
        case .retire(let pid, let now):
            guard var child = children[pid], child.lifecycle == .serving else { break }
            child.retired = true
            child.lifecycle = .quitting(deadline: now + timings.drain)
            children[pid] = child
            out.append(.log(.debug, "[pool \(child.pool)] retiring idle child \(pid)"))
            out.append(.askToQuit(pid: pid))
        case .recycle(let pid, let now):
            askToQuit(pid, now: now, into: &out)
        case .requestTimedOut(let pid, let now):
            terminate(pid, killAt: now + timings.killGrace, into: &out)
        }
        return out
    }

    /// Whether this child is already being stopped by force (SIGTERM or SIGKILL sent).
    package func isBeingTerminated(_ pid: Int32) -> Bool {
        switch children[pid]?.lifecycle {
        case .terminated, .killed: return true
        default: return false
        }
    }

    // MARK: transitions

    private mutating func onSignal(_ signal: Int32, now: Int, into out: inout [Command]) {
        switch signal {
        case SIGCHLD:
            out.append(.reapChildren)
        case SIGTERM where gracefulSigterm:
            onSignal(stopSignalMeaning(signal), now: now, into: &out)
        case SIGINT, SIGTERM:
            guard stage != .terminating else { return }
            out.append(.log(.notice, "Terminating ..."))
            stage = .terminating
            reload.handoverDeadline = nil
            delayedRespawns.removeAll()
            backoff.removeAll()
            stopReload(now: now, into: &out)
            for pid in children.keys.sorted() { terminate(pid, killAt: now + timings.stopKillGrace, into: &out) }
            out.append(.writeState)
            exitIfDone(into: &out)
        case SIGQUIT:
            guard phase.isServing || phase == .starting else { return }
            out.append(.log(.notice, "Finishing ..."))
            stage = .finishing
            reload.handoverDeadline = nil
            delayedRespawns.removeAll()
            backoff.removeAll()
            stopReload(now: now, into: &out)
            // Each finishes its request, then serves what waits on the listener before it leaves.
            for pid in children.keys.sorted() { askToQuit(pid, now: now, finish: true, into: &out) }
            out.append(.writeState)
            exitIfDone(into: &out)
        case SIGUSR1:
            out.append(.reopenLogs)
        case SIGUSR2, SIGHUP:
            requestReload(reason: "Reloading in progress ...", into: &out)
        case Signals.drain, Signals.undrain:
            if phase.isServing || phase == .starting { setDraining(signal == Signals.drain, into: &out) }
        default:
            break
        }
    }

    private mutating func onExit(pid: Int32, status: ExitStatus, now: Int, into out: inout [Command]) {
        if let p = reload.preparation, p.pid == pid {
            // Not a worker: no slot, no respawn, no crash count.
            preparationExited(status: status, into: &out)
            return
        }
        guard let child = children.removeValue(forKey: pid) else {
            out.append(.log(.warning, "unknown child (\(pid)) \(status)"))
            return
        }
        out.append(.release(child))
        let seconds = Double(now - child.startedMono) / 1e9
        let who = child.generation < generation
            ? "[pool \(child.pool)] child \(pid) (previous generation)" : "[pool \(child.pool)] child \(pid)"
        let end = "\(status) after \(TextRendering.fixed(seconds, decimals: 3)) seconds from start"
        let message = "\(who) \(end)"
        let replaced = (phase.isServing || phase == .starting) && child.generation == generation && !child.retired
        // Only an error exit (setUp failed, exec failed) is taken as "cannot start": a crash
        // is a request's fault, and its worker is replaced at once.
        if replaced && backoff.isStartFailure(status, lifetime: now - child.startedMono) {
            let (at, newRound) = backoff.failed(pool: child.pool, started: child.startedMono, now: now, exit: end)
            delayedRespawns.append((child.pool, at))
            if newRound {
                let wait = (at - now + 999_999_999) / 1_000_000_000
                out.append(.log(.warning, "\(message); the pool's workers exit at start: next respawn in \(wait) s"))
            } else {
                out.append(.log(.debug, message))
            }
        } else {
            switch status {
            case .exited(0), .signaled(SIGQUIT, _): out.append(.log(.notice, message))
            default: out.append(.log(.warning, message))
            }
            if status.isCrash { noteCrash(now: now, into: &out) }
            if replaced {
                if now - child.startedMono >= backoff.base { backoff.survived(pool: child.pool) }
                out.append(.spawn(pool: child.pool))
            }
        }
        out.append(.writeState)
        exitIfDone(into: &out)
    }

    private mutating func onTick(now: Int, into out: inout [Command]) {
        for pid in children.keys.sorted() {
            guard var child = children[pid] else { continue }
            switch child.lifecycle {
            case .quitting(let deadline) where now >= deadline:
                child.lifecycle = .terminated(deadline: now + timings.killGrace)
                out.append(.log(.warning, "[pool \(child.pool)] child \(pid) did not finish within process_control_timeout, sending SIGTERM"))
                out.append(.signal(pid: pid, signal: SIGTERM))
            case .terminated(let deadline) where now >= deadline:
                child.lifecycle = .killed
                out.append(.log(.warning, "[pool \(child.pool)] child \(pid) still alive after SIGTERM, sending SIGKILL"))
                out.append(.signal(pid: pid, signal: SIGKILL))
            default:
                continue
            }
            children[pid] = child
        }
        reloadTick(now: now, into: &out)
        if case .handingOver(let deadline) = phase, now >= deadline {
            out.append(.log(.warning, "the new generation is not ready after \(timings.handoverLimit / 1_000_000_000) s; retiring the previous one anyway"))
            handOver(now: now, into: &out)
        }
        noteSurvivors(now: now, into: &out)
        if phase.isServing {
            let due = delayedRespawns.filter { $0.at <= now }
            delayedRespawns.removeAll { $0.at <= now }
            for respawn in due { out.append(.spawn(pool: respawn.pool)) }
        }
    }

    /// The new generation serves: ask every worker of the previous ones to finish.
    private mutating func handOver(now: Int, into out: inout [Command]) {
        reload.handoverDeadline = nil
        for pid in children.keys.sorted() where children[pid]!.generation < generation {
            askToQuit(pid, now: now, into: &out)
        }
        out.append(.handedOver)
        out.append(.log(.notice, "generation \(generation) is serving; previous workers are finishing their requests"))
        out.append(.writeState)
    }

    /// SIGTERM now, SIGKILL at `killAt`; nothing for a child already being stopped by force.
    private mutating func terminate(_ pid: Int32, killAt: Int, into out: inout [Command]) {
        guard var child = children[pid] else { return }
        switch child.lifecycle {
        case .serving, .quitting:
            child.lifecycle = .terminated(deadline: killAt)
            children[pid] = child
            out.append(.signal(pid: pid, signal: SIGTERM))
        case .terminated, .killed:
            return
        }
    }

    /// `finish`: the master stops, so the worker serves the connections waiting on the listener
    /// before it leaves (`Command.finish`).
    private mutating func askToQuit(_ pid: Int32, now: Int, finish: Bool = false, into out: inout [Command]) {
        guard var child = children[pid], child.lifecycle == .serving else { return }
        child.lifecycle = .quitting(deadline: now + timings.drain)
        children[pid] = child
        out.append(finish ? .finish(pid: pid) : .askToQuit(pid: pid))
    }

    /// A worker of a backing-off pool has run `backoff.base`: the pool starts again.
    private mutating func noteSurvivors(now: Int, into out: inout [Command]) {
        guard !backoff.pools.isEmpty else { return }
        for pool in backoff.pools.keys.sorted() {
            let survivor = children.values.contains {
                $0.pool == pool && $0.generation == generation && now - $0.startedMono >= backoff.base
            }
            guard survivor, let step = backoff.pools[pool]?.step else { continue }
            backoff.survived(pool: pool)
            // One failed round is not worth a line (a worker that failed beside running ones).
            if step > 1 { out.append(.log(.notice, "[pool \(pool)] a worker has started: respawns are immediate again")) }
            out.append(.writeState)
        }
    }

    private mutating func noteCrash(now: Int, into out: inout [Command]) {
        guard emergencyRestart.isEnabled else { return }
        crashTimes.append(now)
        crashTimes.removeAll { now - $0 > emergencyRestart.intervalNanos }
        guard crashTimes.count >= emergencyRestart.threshold, phase.isServing, !reload.isInFlight else { return }
        crashTimes.removeAll()
        let seconds = emergencyRestart.intervalNanos / 1_000_000_000
        requestReload(reason: "failed processes threshold (\(emergencyRestart.threshold) in \(seconds) sec) is reached, initiating reload", into: &out)
    }

    func exitIfDone(into out: inout [Command]) {
        guard (stage == .finishing || stage == .terminating) && children.isEmpty && !reload.isInFlight else { return }
        out.append(.log(.notice, "exiting, bye-bye!"))
        out.append(.exit(code: ExitCodes.ok))
    }
}

extension ExitStatus {
    /// A crash: php-fpm counts SIGSEGV and SIGBUS; a Swift runtime trap (a failed
    /// precondition, fatalError, a forced unwrap of nil) ends a worker with SIGILL or SIGTRAP.
    var isCrash: Bool {
        guard case .signaled(let sig, _) = self else { return false }
        return [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE].contains(sig)
    }
}

extension ProcessControl.Child: CustomStringConvertible {
    package var description: String { "child \(pid) [pool \(pool), generation \(generation), \(lifecycle)]" }
}
