import FPMConfiguration
import FPMStatus
import FPMSystem

/// Process control's commands carried out: the master's part that turns decisions into
/// forks, signals, reload steps and files, and hands what happened back as events.
extension Master {
    /// Queues `event` (if any) and handles everything queued, in order (`ControlQueue`). Returns
    /// the exit code once the master is done; a call made while commands run only queues, and
    /// returns the code only if one was already decided.
    @discardableResult
    func handle(_ event: ProcessControl.Event?) -> Int32? {
        if let event { queue.post(event) }
        if let code = queue.drain(handle: { self.control.handle($0) }, execute: { self.execute($0) }) { exitCode = code }
        return exitCode
    }

    /// Carries out one of process control's commands; returns the events it produced.
    func execute(_ command: ProcessControl.Command) -> [ProcessControl.Event] {
        switch command {
        case .askToQuit(let pid):
            askToQuit(pid)
        case .finish(let pid):
            askToQuit(pid, message: .finish)
        case .signal(let pid, let signal):
            Processes.signal(pid, signal)
        case .spawn(let name):
            if let pool = poolsByName[name] { spawn(pool) }
        case .reapChildren:
            return reapChildren()
        case .validateReload(let reason):
            return validateReload(reason: reason)
        case .startPreparation(let pool):
            return startPreparation(pool: pool)
        case .collectPreparation(let pool, let output):
            return collectPreparation(pool: pool, output: output)
        case .closePreparationOutput(let fd):
            epoll.remove(fd)
            heldDescriptors.close(fd)
        case .bindNewListeners:
            return bindNewListeners()
        case .closeListeners(let listeners):
            closeListeners(listeners)
        case .execReload:
            return execReload()
        case .reopenLogs:
            reopenLogs()
        case .release(let child):
            release(child)
        case .handedOver:
            for pool in pools where pool.settings.style == .ondemand && SocketIO.waitReadable(pool.listenFD, timeoutMillis: 0) {
                onPendingConnection(pool)
            }
        case .log(let severity, let message):
            if severity == .debug { log.debug(message) } else { log.log(severity, message) }
        case .writeState:
            writeState()
        case .exit:
            cleanupFiles()
        }
        return []
    }

    /// Every exited child, each as the event that tells process control.
    func reapChildren() -> [ProcessControl.Event] {
        var exits: [ProcessControl.Event] = []
        while let (pid, status) = Processes.reapAny() {
            drainWorkerOutput(pid: pid)
            if warmTemplateExited(pid, status: status) { continue }
            keptConnectionsOfEndedWorker(pid)
            if status.isCrash { logCrashedRequest(pid: pid) }
            // An exec job pool's program that ended on its own is started again: counted.
            if let child = control.children[pid], child.isExec, child.lifecycle == .serving, child.generation == generation,
               let pool = poolsByName[child.pool], pool.isJobPool {
                pool.scoreboard.restarts += 1
            }
            exits.append(.childExited(pid: pid, status: status, now: SystemClock.monotonicNanos()))
        }
        return exits
    }
}
