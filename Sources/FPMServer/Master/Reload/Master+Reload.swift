import FPMConfiguration
import FPMSystem

/// The I/O each reload step asks for (the steps: `ReloadState.swift`; the decisions:
/// `ProcessControl+Reload.swift`). Each function carries out one command and returns what
/// happened as events; none of them changes the reload's state or calls back into process
/// control. The exec and the new image's side are in `Master+Reexec.swift`.
extension Master {
    /// `.validateReload`: loads and checks the configuration a reload would apply.
    func validateReload(reason: String) -> [ProcessControl.Event] {
        notifySystemd(.reloadStarted(nowMono: SystemClock.monotonicNanos(), reloadFailures: control.reload.failures))
        log.notice(reason)
        do {
            let candidate = try Launcher.loadConfiguration(options: options, environment: Processes.environment(),
                                                            handlers: handlers)
            let problems = StartChecks.problems(in: candidate, allowRoot: options.allowRoot, forceStderr: options.forceStderr)
                .filter { $0.severity == .error }
            if !problems.isEmpty { throw ConfigurationError(diagnostics: problems) }
            let preparing = PoolPreparation.pools(in: candidate, handlers: handlers).map(\.name)
            return [.reloadChecked(candidate: candidate, preparing: preparing)]
        } catch {
            return [.reloadAborted(reason: "\(error)")]
        }
    }

    /// `.startPreparation`: forks the pool's preparation and watches its output from the loop.
    func startPreparation(pool name: String) -> [ProcessControl.Event] {
        guard let candidate = control.reload.candidate, let pool = candidate.pools.first(where: { $0.name == name }) else {
            return [.preparationFinished(pool: name, failure: "[pool \(name)] preparation not started: the reload's configuration is gone")]
        }
        switch launchPreparation(pool, in: candidate) {
        case .failure(let notStarted):
            return [.preparationFinished(pool: name, failure: notStarted.line)]
        case .success(let launched):
            var output: Int32? = launched.output
            DescriptorRegistry.register(launched.output)
            heldDescriptors.adopt(launched.output)
            do {
                try epoll.add(launched.output, events: Epoll.input, data: Wakeup.preparationOutput.tag)
            } catch {
                // Unread, it can still run; output past the pipe's buffer blocks it until its deadline.
                heldDescriptors.close(launched.output)
                output = nil
                log.warning("[pool \(name)] the preparation's output cannot be watched: \(error)")
            }
            log.notice("[pool \(name)] preparing the new generation (pid \(launched.pid))")
            return [.preparationStarted(pool: name, pid: launched.pid, output: output, now: SystemClock.monotonicNanos())]
        }
    }

    /// The loop saw the running preparation's output readable: one read, as an event.
    func readPreparationOutput() {
        guard let fd = control.preparation?.output else { return }
        queue.post(readPreparationOutputOnce(fd) ?? .preparationOutputEnded)
    }

    /// One read of a preparation's output; nil at end of file (or when the pipe failed).
    private func readPreparationOutputOnce(_ fd: Int32) -> ProcessControl.Event? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = (try? chunk.withUnsafeMutableBytes { b throws(SystemError) in try FileIO.read(fd, into: b) }) ?? 0
        guard n > 0 else { return nil }
        return .preparationOutput(Array(chunk[0..<n]))
    }

    /// `.collectPreparation`: what is left in the reaped preparation's pipe, never waiting (a
    /// process it left behind may hold the pipe open).
    func collectPreparation(pool: String, output: Int32?) -> [ProcessControl.Event] {
        var events: [ProcessControl.Event] = []
        if let fd = output {
            for _ in 0..<64 {
                guard SocketIO.waitReadable(fd, timeoutMillis: 0), let event = readPreparationOutputOnce(fd) else { break }
                events.append(event)
            }
        }
        events.append(.preparationCollected(pool: pool, now: SystemClock.monotonicNanos()))
        return events
    }

    /// `.bindNewListeners`: binds, in this image, every address the candidate listens on that
    /// no pool serves yet, so a port another process holds fails the reload here — while the
    /// running generation is untouched — instead of failing the new image. They cross the exec
    /// with the other listeners.
    func bindNewListeners() -> [ProcessControl.Event] {
        guard let candidate = control.reload.candidate else { return [.listenersBound([])] }
        var bound: [ReloadInheritance.Listener] = []
        let serving = Set(pools.map(\.listenKey))
        for pool in candidate.pools where !pool.isJobPool && !serving.contains(pool.listen.description) {
            do {
                let fd = try openListener(pool)
                DescriptorRegistry.register(fd)
                heldDescriptors.adopt(fd)
                bound.append(ReloadInheritance.Listener(fd: fd, key: pool.listen.description))
            } catch {
                closeListeners(bound)
                let line = pool.source.isSet("listen") ? pool.source.location(of: "listen").line : pool.sourceLine
                let failure = ConfigurationError(diagnostics: [ConfigurationDiagnostic(
                    file: pool.sourceFile, line: line, pool: pool.name, directive: "listen", value: pool.listen.description,
                    message: "\(error)")])
                return [.reloadAborted(reason: "\(failure)")]
            }
        }
        return [.listenersBound(bound)]
    }

    /// `.closeListeners`: listeners bound for a reload that does not happen.
    func closeListeners(_ listeners: [ReloadInheritance.Listener]) {
        for listener in listeners {
            heldDescriptors.close(listener.fd)
            if listener.key.hasPrefix("/") { FileIO.unlink(listener.key) }
        }
    }
}
