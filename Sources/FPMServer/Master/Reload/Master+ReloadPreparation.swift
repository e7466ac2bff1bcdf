import FPMConfiguration
import FPMSystem

/// What the master holds while a reload's preparations run (`ProcessControl.ReloadPreparation`
/// decides their order, deadline and outcome): the configuration they prepare for and the
/// running preparation's output, read from the loop.
final class PendingReload {
    let candidate: FPMConfiguration
    /// The read end of the running preparation's stdout and stderr, watched by the epoll loop;
    /// nil once it reached end of file (or between two preparations).
    var output: Int32?
    var text: [UInt8] = []
    var startedMono = 0

    init(candidate: FPMConfiguration) {
        self.candidate = candidate
    }
}

/// A reload's preparation without stalling the loop: `.validateReload` checks the new
/// configuration and hands the pools to prepare to process control, which asks for one
/// preparation at a time; the child's exit comes back through the SIGCHLD reaping, its deadline
/// through the tick. When the last one succeeded the reload goes on as before (new listeners,
/// then exec); a failure aborts it with the running generation serving.
extension Master {
    /// `.validateReload`: loads and checks the configuration, then lets process control run
    /// its preparations.
    func beginReload(reason: String) -> Int32? {
        guard let candidate = checkReload(reason: reason) else { return nil }
        discardPendingReload()
        pendingReload = PendingReload(candidate: candidate)
        let pools = PoolPreparation.pools(in: candidate, handlers: handlers).map(\.name)
        return perform(control.handle(.reloadChecked(preparing: pools)))
    }

    /// `.startPreparation`: forks it and watches its output from the loop.
    func startPreparation(pool name: String) -> Int32? {
        guard let pending = pendingReload, let pool = pending.candidate.pools.first(where: { $0.name == name }) else {
            return perform(control.handle(.preparationFinished(
                pool: name, failure: "[pool \(name)] preparation not started: the reload's configuration is gone")))
        }
        switch launchPreparation(pool, in: pending.candidate) {
        case .failure(let notStarted):
            return perform(control.handle(.preparationFinished(pool: name, failure: notStarted.line)))
        case .success(let launched):
            pending.text.removeAll()
            pending.startedMono = SystemClock.monotonicNanos()
            do {
                try epoll.add(launched.output, events: Epoll.input, data: Wakeup.preparationOutput.tag)
                pending.output = launched.output
            } catch {
                // Unread, it can still run; output past the pipe's buffer blocks it until its deadline.
                FileIO.close(launched.output)
                log.warning("[pool \(name)] the preparation's output cannot be watched: \(error)")
            }
            log.notice("[pool \(name)] preparing the new generation (pid \(launched.pid))")
            let code = perform(control.handle(.preparationStarted(pool: name, pid: launched.pid, now: SystemClock.monotonicNanos())))
            writeState()
            return code
        }
    }

    /// The loop saw the running preparation's output readable: one read (kept up to the limit).
    func readPreparationOutput() {
        guard let pending = pendingReload, let fd = pending.output else { return }
        if !readPreparationOutputOnce(pending, fd) { closePreparationOutput() }
    }

    /// False at end of file (or when the pipe failed).
    private func readPreparationOutputOnce(_ pending: PendingReload, _ fd: Int32) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = (try? chunk.withUnsafeMutableBytes { b throws(SystemError) in try FileIO.read(fd, into: b) }) ?? 0
        guard n > 0 else { return false }
        let room = PoolPreparation.outputLimit - pending.text.count
        if room > 0 { pending.text += chunk[0..<min(n, room)] }
        return true
    }

    func closePreparationOutput() {
        guard let pending = pendingReload, let fd = pending.output else { return }
        epoll.remove(fd)
        FileIO.close(fd)
        pending.output = nil
    }

    /// `.preparationExited`: what is left in its pipe (never waiting: a process it left behind
    /// may hold the pipe open), then its outcome back to process control.
    func preparationExited(pool: String, status: ExitStatus, timedOut: Bool) -> Int32? {
        var failure: String? = nil
        if let pending = pendingReload {
            if let fd = pending.output {
                for _ in 0..<64 {
                    guard SocketIO.waitReadable(fd, timeoutMillis: 0), readPreparationOutputOnce(pending, fd) else { break }
                }
            }
            closePreparationOutput()
            let outcome = PoolPreparation.outcome(pool: pool, status: status, output: String(decoding: pending.text, as: UTF8.self),
                                                  timedOut: timedOut, deadlineNanos: control.timings.preparationLimit)
            switch outcome {
            case .prepared:
                log.notice("[pool \(pool)] prepared in \((SystemClock.monotonicNanos() - pending.startedMono) / 1_000_000) ms")
            case .failed(let line):
                failure = line
            }
        } else {
            failure = "[pool \(pool)] preparation ended without its reload"
        }
        return perform(control.handle(.preparationFinished(pool: pool, failure: failure)))
    }

    /// `.finishReload`: every preparation succeeded; the reload goes on as it always did.
    func finishReload() -> Int32? {
        guard let pending = pendingReload else { return nil }
        discardPendingReload()
        do {
            try openNewListeners(for: pending.candidate)
        } catch {
            reloadAborted(error)
            return nil
        }
        validatedReload = pending.candidate
        return perform(control.handle(.reloadValidated))
    }

    /// `.abortReload`: the running generation keeps serving.
    func abortReload(reason: String) {
        discardPendingReload()
        reloadAborted(StartError(reason))
    }

    func discardPendingReload() {
        closePreparationOutput()
        pendingReload = nil
    }
}
