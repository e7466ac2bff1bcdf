import FPMConfiguration
import FPMSystem
import Glibc

/// The reload's transitions (its state and its way are described in `ReloadState.swift`): each
/// reload event moves `reload` one step and says what the master must do next. Pure: no I/O,
/// no clock; unit-tested in ProcessControlPreparationTests and ProcessControlReloadTests.
extension ProcessControl {
    /// Handles one of the reload's own events.
    mutating func onReloadEvent(_ event: Event, into out: inout [Command]) {
        switch event {
        case .reloadChecked(let candidate, let pools):
            guard reload.step == .validating else { return }
            guard phase.isServing else { return abandonReload(into: &out) }
            reload.candidate = candidate
            if let first = pools.first {
                reload.step = .preparing(Reload.Preparation(pool: first, waiting: Array(pools.dropFirst())))
                out.append(.startPreparation(pool: first))
            } else {
                bindNewListeners(into: &out)
            }
        case .preparationStarted(let pool, let pid, let output, let now):
            guard var p = reload.preparation, p.pool == pool, p.pid == nil else { return }
            p.pid = pid
            p.output = output
            p.text = []
            p.startedMono = now
            p.deadline = now + timings.preparationLimit
            if !phase.isServing {
                // A stop came while it was being forked: it ends like a running one.
                p.deadline = now + timings.stopKillGrace
                out.append(.signal(pid: pid, signal: SIGTERM))
            }
            reload.step = .preparing(p)
            out.append(.writeState)
        case .preparationOutput(let bytes):
            guard var p = reload.preparation else { return }
            let room = PoolPreparation.outputLimit - p.text.count
            if room > 0 { p.text += bytes.prefix(room) }
            reload.step = .preparing(p)
        case .preparationOutputEnded:
            guard var p = reload.preparation, let fd = p.output else { return }
            p.output = nil
            reload.step = .preparing(p)
            out.append(.closePreparationOutput(fd))
        case .preparationCollected(let pool, let now):
            guard var p = reload.preparation, p.pool == pool, p.pid == nil else { return }
            if let fd = p.output {
                p.output = nil
                reload.step = .preparing(p)
                out.append(.closePreparationOutput(fd))
            }
            let outcome = PoolPreparation.outcome(pool: pool, status: p.status, output: String(decoding: p.text, as: UTF8.self),
                                                  timedOut: p.killed, deadlineNanos: timings.preparationLimit)
            switch outcome {
            case .prepared:
                out.append(.log(.notice, "[pool \(pool)] prepared in \((now - p.startedMono) / 1_000_000) ms"))
                preparationFinished(pool: pool, failure: nil, into: &out)
            case .failed(let line):
                preparationFinished(pool: pool, failure: line, into: &out)
            }
        case .preparationFinished(let pool, let failure):
            preparationFinished(pool: pool, failure: failure, into: &out)
        case .listenersBound(let listeners):
            guard reload.step == .binding else {
                if !listeners.isEmpty { out.append(.closeListeners(listeners)) }
                return
            }
            reload.newListeners = listeners
            guard phase.isServing else { return abandonReload(into: &out) }
            reload.step = .execing
            out.append(.execReload)
        case .execFailed(let reason):
            guard reload.step == .execing else { return }
            fail(reason, into: &out) { generation in ["reload failed: \(reason); generation \(generation) keeps serving"] }
        case .reloadAborted(let reason):
            guard reload.isInFlight else { return }
            fail(reason, into: &out) { generation in
                reason.split(separator: "\n").map(String.init)
                    + ["reload aborted: the new configuration is invalid; generation \(generation) keeps serving"]
            }
        default:
            break
        }
    }

    /// SIGUSR2/SIGHUP or an emergency restart: a reload starts when the master serves and no
    /// other reload is in flight (coalescing would prepare twice for one deploy; the running one decides).
    mutating func requestReload(reason: String, into out: inout [Command]) {
        guard phase.isServing else { return }
        if let p = reload.preparation {
            out.append(.log(.notice, "a reload is already being prepared ([pool \(p.pool)]); this reload request is ignored"))
            return
        }
        guard !reload.isInFlight else {
            out.append(.log(.notice, "a reload is already in progress; this reload request is ignored"))
            return
        }
        reload.step = .validating
        out.append(.validateReload(reason: reason))
    }

    /// A preparation is over: the next one, the binding, or the end of the reload.
    private mutating func preparationFinished(pool: String, failure: String?, into out: inout [Command]) {
        guard let p = reload.preparation, p.pool == pool, p.pid == nil else { return }
        if !phase.isServing {
            abandonReload(into: &out)
        } else if let failure {
            fail(failure, into: &out) { generation in
                failure.split(separator: "\n").map(String.init)
                    + ["reload aborted: the new configuration is invalid; generation \(generation) keeps serving"]
            }
        } else if let next = p.waiting.first {
            reload.step = .preparing(Reload.Preparation(pool: next, waiting: Array(p.waiting.dropFirst())))
            out.append(.startPreparation(pool: next))
        } else {
            bindNewListeners(into: &out)
        }
    }

    private mutating func bindNewListeners(into out: inout [Command]) {
        reload.step = .binding
        out.append(.bindNewListeners)
    }

    /// The reload cannot go on: what it holds is released, the failure counted and told.
    private mutating func fail(_ reason: String, into out: inout [Command], lines: (Int) -> [String]) {
        release(into: &out)
        reload.failures += 1
        reload.lastError = reason
        for line in lines(generation) { out.append(.log(.error, line)) }
        out.append(.writeState)
    }

    /// The master stops with a reload in flight: it ends without counting as a failure, and
    /// the master may exit once nothing else is left.
    private mutating func abandonReload(into out: inout [Command]) {
        guard reload.isInFlight else { return }
        release(into: &out)
        out.append(.log(.notice, "reload abandoned: the master is stopping"))
        exitIfDone(into: &out)
    }

    /// Back to idle, closing the preparation's output and the listeners bound for the next image.
    private mutating func release(into out: inout [Command]) {
        if let fd = reload.preparation?.output { out.append(.closePreparationOutput(fd)) }
        if !reload.newListeners.isEmpty { out.append(.closeListeners(reload.newListeners)) }
        reload.step = .idle
        reload.candidate = nil
        reload.newListeners = []
    }

    /// A stop during a reload. A running preparation gets SIGTERM now and SIGKILL after the
    /// stop's kill grace, and nothing after it starts; an exec not yet made is not made. In the
    /// other steps an event is already queued (the check's, the fork's, the binding's, the
    /// collection's) and abandons the reload when it comes.
    mutating func stopReload(now: Int, into out: inout [Command]) {
        switch reload.step {
        case .preparing(var p):
            p.waiting.removeAll()
            if let pid = p.pid, !p.killed {
                p.deadline = now + timings.stopKillGrace
                out.append(.signal(pid: pid, signal: SIGTERM))
            }
            reload.step = .preparing(p)
        case .execing:
            abandonReload(into: &out)
        case .idle, .validating, .binding:
            break
        }
    }

    /// The preparation's process was reaped: collect the rest of its output, then its outcome.
    mutating func preparationExited(status: ExitStatus, into out: inout [Command]) {
        guard var p = reload.preparation else { return }
        p.pid = nil
        p.status = status
        reload.step = .preparing(p)
        out.append(.collectPreparation(pool: p.pool, output: p.output))
    }

    /// The clock: a preparation past its deadline is killed.
    mutating func reloadTick(now: Int, into out: inout [Command]) {
        guard var p = reload.preparation, let pid = p.pid, !p.killed, now >= p.deadline else { return }
        p.killed = true
        reload.step = .preparing(p)
        out.append(.signal(pid: pid, signal: SIGKILL))
    }
}
