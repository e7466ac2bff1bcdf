import FPMConfiguration
import FPMSystem
import Glibc

/// Reload, all of it: SIGUSR2/SIGHUP (or an emergency restart) → validate the new
/// configuration → re-execute this binary in place (same pid) handing over the validated
/// configuration, the listeners, the hand-off sockets and the running workers as one
/// `ReloadInheritance` → the new image adopts them, starts its workers, and only once they are
/// ready asks the previous generation to finish. The shared accept queue is never without a
/// reader, and an invalid configuration or a failed exec leaves the running generation serving.
///
/// The phases and their deadlines are `ProcessControl`'s (`.validateReload`, `.execReload`,
/// `.handingOver`, `.generationReady`); this file does the I/O they ask for.
extension Master {
    /// Loads and checks the configuration a reload would apply; keeps it for `execReload`.
    /// False (logged, counted, and told to `fpmctl` through the state file) when it is invalid.
    func validateReload(reason: String) -> Bool {
        log.notice(reason)
        do {
            validatedReload = try Launcher.loadConfiguration(options: options, environment: Processes.environment(),
                                                              handlers: handlers)
            return true
        } catch {
            reloadFailures += 1
            lastReloadError = "\(error)"
            for line in "\(error)".split(separator: "\n") { log.error(String(line)) }
            log.error("reload aborted: the new configuration is invalid; generation \(generation) keeps serving")
            writeState()
            return false
        }
    }

    /// Re-executes the master with the validated configuration. Returns only when exec failed,
    /// and then everything is as it was: the old generation keeps serving.
    func execReload() {
        guard let candidate = validatedReload else { return }
        validatedReload = nil
        let inheritance = ReloadInheritance(
            generation: generation + 1, reloadFailures: reloadFailures, configurationPath: candidate.path,
            configuration: candidate.renderEffective(),
            listeners: pools.map { ReloadInheritance.Listener(fd: $0.listenFD, key: $0.listenKey) },
            handoffs: pools.compactMap { pool in
                pool.handoff.map { ReloadInheritance.Handoff(pool: pool.name, read: $0.read, write: $0.write) }
            },
            children: control.children.values.sorted { $0.pid < $1.pid }.map { child in
                ReloadInheritance.Child(pid: child.pid, pool: child.pool, generation: child.generation,
                                        control: child.control, quitting: child.lifecycle != .serving,
                                        startedMono: child.startedMono)
            })
        // Only close-on-exec changes: O_NONBLOCK lives on the description the old workers
        // share, and flipping it would leave an idle worker blocked in accept() during the exec.
        let descriptors = inheritance.descriptors
        for fd in descriptors { try? FileIO.setCloseOnExec(fd, false) }
        let published: Int32
        do {
            published = try inheritance.publish(runtimeDirectory: runtimeDirectory)
        } catch {
            for fd in descriptors { try? FileIO.setCloseOnExec(fd, true) }
            reloadFailed("cannot hand the state over: \(error)")
            return
        }
        log.notice("reloading: execv(\"\(executablePath)\", \(options.arguments))")
        let error = Processes.exec(executablePath, options.arguments)
        // Still here: exec failed. Keep serving with what we have.
        Processes.unsetEnvironment(ReloadInheritance.environmentName)
        FileIO.close(published)
        for fd in descriptors { try? FileIO.setCloseOnExec(fd, true) }
        reloadFailed(error.description)
    }

    private func reloadFailed(_ reason: String) {
        log.error("reload failed: \(reason); generation \(generation) keeps serving")
        reloadFailures += 1
        lastReloadError = reason
        writeState()
    }

    /// In the re-executed image: take over what the previous one handed over. The children it
    /// ran become this image's previous generation; those that exited during the exec are
    /// reaped right away.
    func adoptInheritance() {
        guard let inheritance else { return }
        reloadFailures = inheritance.reloadFailures
        for listener in inheritance.listeners {
            try? FileIO.setCloseOnExec(listener.fd, true)
            if Socket.isListening(listener.fd) { inheritedListeners[listener.key] = listener.fd }
        }
        for handoff in inheritance.handoffs {
            try? FileIO.setCloseOnExec(handoff.read, true)
            try? FileIO.setCloseOnExec(handoff.write, true)
            inheritedHandoffs[handoff.pool] = (handoff.read, handoff.write)
        }
        let now = SystemClock.monotonicNanos()
        for child in inheritance.children {
            if let fd = child.control { try? FileIO.setCloseOnExec(fd, true) }
            let lifecycle: ProcessControl.Lifecycle = child.quitting ? .quitting(deadline: now + control.timings.drain) : .serving
            _ = control.handle(.spawned(ProcessControl.Child(
                pid: child.pid, pool: child.pool, generation: child.generation, slot: nil, control: child.control,
                startedMono: child.startedMono, lifecycle: lifecycle)))
        }
        _ = perform([.reapChildren])
    }

    /// During a hand-over: whether every pool that starts workers has one ready to accept. An
    /// exec'd program cannot flag itself ready: once forked it shares the queue.
    func newGenerationIsReady() -> Bool {
        for pool in pools where pool.settings.initialChildren > 0 {
            let ready = control.current(in: pool.name).contains { child in
                if child.isExec { return true }
                guard let slot = child.slot else { return false }
                return pool.scoreboard.slot(slot).flags & Scoreboard.readyFlag != 0
            }
            if !ready { return false }
        }
        return true
    }
}
