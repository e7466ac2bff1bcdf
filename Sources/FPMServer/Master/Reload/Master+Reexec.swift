import FPMConfiguration
import FPMStatus
import FPMSystem

/// The exec at the heart of a reload, both sides of it: the running image re-executes this
/// binary in place (same pid) handing over the candidate configuration, the listeners, the
/// hand-off sockets and the running workers as one `ReloadInheritance`; the new image adopts
/// them, starts its workers, and only once they are ready asks the previous generation to
/// finish. The shared accept queue is never without a reader, and a failed exec (or a new image
/// that cannot start) leaves the running generation serving. The whole way: `ReloadState.swift`.
extension Master {
    /// `.execReload`: re-executes the master with the candidate. Returns only when exec failed,
    /// and then everything is as it was: the old generation keeps serving.
    func execReload() -> [ProcessControl.Event] {
        let reload = control.reload
        guard reload.step == .execing, let candidate = reload.candidate else { return [] }
        var inheritance = ReloadInheritance(
            generation: generation + 1, reloadFailures: reload.failures, lastReloadError: reload.lastError,
            configurationPath: candidate.path, configuration: candidate.renderEffective(),
            fallback: ReloadInheritance.Fallback(configurationPath: configuration.path,
                                                 configuration: configuration.renderEffective()),
            listeners: pools.filter { $0.listenFD >= 0 }.map { ReloadInheritance.Listener(fd: $0.listenFD, key: $0.listenKey) } + reload.newListeners,
            handoffs: pools.compactMap { pool in
                pool.handoff.map { ReloadInheritance.Handoff(pool: pool.name, read: $0.read, write: $0.write) }
            },
            children: inheritedChildren(), outputs: inheritedWorkerOutputs())
        inheritance.activated = inherited.activated.sorted()
        inheritance.draining = control.draining
        endWarmTemplates()
        return [.execFailed(reason: reexec(with: inheritance))]
    }

    /// The running children as the next image adopts them.
    func inheritedChildren() -> [ReloadInheritance.Child] {
        control.children.values.sorted { $0.pid < $1.pid }.map { child in
            ReloadInheritance.Child(pid: child.pid, pool: child.pool, generation: child.generation,
                                    control: child.control, quitting: child.lifecycle != .serving,
                                    startedMono: child.startedMono)
        }
    }

    /// Publishes `inheritance` and execs this binary with the same arguments. Returns why not
    /// when that failed, with every descriptor back to close-on-exec.
    func reexec(with inheritance: ReloadInheritance) -> String {
        Master.reexec(with: inheritance, executable: executablePath, arguments: options.arguments,
                      runtimeDirectory: runtimeDirectory, log: log)
    }

    static func reexec(with inheritance: ReloadInheritance, executable: String, arguments: [String],
                       runtimeDirectory: String, log: ErrorLog) -> String {
        // Only close-on-exec changes: O_NONBLOCK lives on the description the old workers
        // share, and flipping it would leave an idle worker blocked in accept() during the exec.
        let descriptors = inheritance.descriptors
        for fd in descriptors { try? FileIO.setCloseOnExec(fd, false) }
        let published: Int32
        do {
            published = try inheritance.publish(runtimeDirectory: runtimeDirectory)
        } catch {
            for fd in descriptors { try? FileIO.setCloseOnExec(fd, true) }
            return "cannot hand the state over: \(error)"
        }
        log.notice("reloading: execv(\"\(executable)\", \(arguments))")
        let error = Processes.exec(executable, arguments)
        // Still here: exec failed.
        Processes.unsetEnvironment(ReloadInheritance.environmentName)
        FileIO.close(published)
        for fd in descriptors { try? FileIO.setCloseOnExec(fd, true) }
        return error.description
    }

    /// In a re-executed image that cannot start with the new configuration (something changed
    /// between the check and the exec): start again with the previous one, so the inherited
    /// workers keep serving and the failure is reported like a rejected reload. Returns only
    /// when even that exec failed.
    func fallBack(because reason: String) {
        guard let inheritance else { return }
        // The children still alive (some may have been reaped since the exec).
        var current = inheritance
        current.children = inheritedChildren()
        current.outputs = inheritedWorkerOutputs()
        Master.fallBack(current, because: reason, options: options, log: log)
    }

    /// The same, also for a new image that fails before it has a master (its inherited
    /// configuration does not load, or its error log does not open).
    static func fallBack(_ inheritance: ReloadInheritance, because reason: String, options: LaunchOptions, log: ErrorLog) {
        guard let fallback = inheritance.fallback else { return }
        log.error("reload failed: \(reason); restarting with the previous configuration")
        var retry = ReloadInheritance(
            generation: inheritance.generation, reloadFailures: inheritance.reloadFailures + 1, lastReloadError: reason,
            configurationPath: fallback.configurationPath, configuration: fallback.configuration, fallback: nil,
            listeners: inheritance.listeners, handoffs: inheritance.handoffs, children: inheritance.children,
            outputs: inheritance.outputs)
        retry.activated = inheritance.activated
        retry.draining = inheritance.draining
        let failure = reexec(with: retry, executable: currentExecutable(), arguments: options.arguments,
                             runtimeDirectory: MasterStateFile.runtimeDirectory(), log: log)
        log.error("cannot restart with the previous configuration: \(failure)")
    }

    /// This binary's path for re-executing it: `/proc/self/exe`, without the " (deleted)" the
    /// kernel adds once a deploy replaced the file (the new binary is then what runs).
    static func currentExecutable() -> String {
        var path = Processes.executablePath() ?? CommandLine.arguments[0]
        if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
        return path
    }

    /// In the re-executed image: take over what the previous one handed over. The children it
    /// ran become this image's previous generation; those that exited during the exec are
    /// reaped right away.
    func adoptInheritance() {
        guard let inheritance else { return }
        inherited.markActivated(inheritance.activated)
        for listener in inheritance.listeners {
            try? FileIO.setCloseOnExec(listener.fd, true)
            if Socket.isListening(listener.fd) { inherited.offer(listener: listener.fd, for: listener.key) }
        }
        for handoff in inheritance.handoffs {
            try? FileIO.setCloseOnExec(handoff.read, true)
            try? FileIO.setCloseOnExec(handoff.write, true)
            inherited.offer(handoff: HandoffSocket(read: handoff.read, write: handoff.write), for: handoff.pool)
        }
        let now = SystemClock.monotonicNanos()
        for child in inheritance.children {
            if let fd = child.control {
                try? FileIO.setCloseOnExec(fd, true)
                // The master's from here: registered, so no worker forked later inherits it.
                DescriptorRegistry.register(fd)
                heldDescriptors.adopt(fd)
            }
            let lifecycle: ProcessControl.Lifecycle = child.quitting ? .quitting(deadline: now + control.timings.drain) : .serving
            _ = control.handle(.spawned(ProcessControl.Child(
                pid: child.pid, pool: child.pool, generation: child.generation, slot: nil, control: child.control,
                startedMono: child.startedMono, lifecycle: lifecycle)))
        }
        adoptInheritedWorkerOutput(inheritance.outputs)
        for exit in reapChildren() { queue.post(exit) }
        handle(nil)
    }

    /// During a hand-over: whether every pool that starts workers has one ready to accept. An
    /// exec'd program cannot flag itself ready: once forked it shares the queue.
    func newGenerationIsReady() -> Bool {
        let workers = control.currentByPool()
        for pool in pools where pool.settings.initialChildren > 0 {
            let ready = (workers[pool.name] ?? []).contains { child in
                if child.isExec { return true }
                guard let slot = child.slot else { return false }
                return pool.scoreboard.slot(slot).flags & Scoreboard.readyFlag != 0
            }
            if !ready { return false }
        }
        return true
    }
}
