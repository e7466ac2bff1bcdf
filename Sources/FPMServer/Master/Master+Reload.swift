import FPMSystem
import CFPMShims
import FPMConfiguration
import Glibc

/// Environment variables that carry a master's state across its own re-exec.
enum Inheritance {
    static let listeners = "SWIFT_FPM_LISTENERS"
    static let children = "SWIFT_FPM_CHILDREN"
    static let generation = "SWIFT_FPM_GENERATION"
    static let reloadFailures = "SWIFT_FPM_RELOAD_FAILURES"
}

extension Master {
    /// SIGUSR2/SIGHUP: validate the new configuration, then re-execute this binary in place
    /// (same pid) handing over the listening sockets and the running workers. The new image
    /// starts its workers and only then retires the old ones, so the shared accept queue is
    /// never without a reader.
    func reload(reason: String) {
        log.notice(reason)
        let environment = Processes.environment()
        let candidate: FPMConfiguration
        do {
            candidate = try Launcher.loadConfiguration(options: options, environment: environment, handlers: handlers)
        } catch {
            reloadFailures += 1
            lastReloadError = "\(error)"
            for line in "\(error)".split(separator: "\n") { log.error(String(line)) }
            log.error("reload aborted: the new configuration is invalid; generation \(generation) keeps serving")
            writeState()
            return
        }
        _ = candidate
        // Hand over: listeners and children survive exec.
        var listenerLines: [String] = []
        for pool in pools {
            // Only CLOEXEC changes: O_NONBLOCK lives on the description the old workers share,
            // and flipping it would leave an idle worker blocked in accept() during the exec.
            try? FileIO.setCloseOnExec(pool.listenFD, false)
            listenerLines.append("\(pool.listenFD)=\(pool.listenKey)")
        }
        var childLines: [String] = []
        for child in children.values {
            if child.control >= 0 { try? FileIO.setCloseOnExec(child.control, false) }
            let quit = child.quitAt != nil ? 1 : 0
            childLines.append("\(child.pid),\(child.control),\(child.generation),\(quit),\(child.pool)")
        }
        setenv(Inheritance.listeners, listenerLines.joined(separator: "\n"), 1)
        setenv(Inheritance.children, childLines.joined(separator: "\n"), 1)
        setenv(Inheritance.generation, String(generation + 1), 1)
        setenv(Inheritance.reloadFailures, String(reloadFailures), 1)
        log.notice("reloading: execv(\"\(executablePath)\", \(options.arguments))")
        let error = Processes.exec(executablePath, options.arguments)
        // Still here: exec failed. Keep serving with what we have.
        log.error("reload failed: \(error); generation \(generation) keeps serving")
        unsetenv(Inheritance.listeners)
        unsetenv(Inheritance.children)
        unsetenv(Inheritance.generation)
        for pool in pools {
            try? FileIO.setCloseOnExec(pool.listenFD, true)
        }
        for child in children.values where child.control >= 0 { try? FileIO.setCloseOnExec(child.control, true) }
        reloadFailures += 1
        lastReloadError = error.description
        writeState()
    }

    /// Reads what a previous image of this master handed over. True when this is a reload.
    func adoptInheritance() -> Bool {
        let env = Processes.environment()
        guard let gen = env[Inheritance.generation].flatMap({ Int($0) }) else { return false }
        generation = gen
        reloadFailures = env[Inheritance.reloadFailures].flatMap { Int($0) } ?? 0
        for line in (env[Inheritance.listeners] ?? "").split(separator: "\n") {
            guard let eq = line.firstIndex(of: "="), let fd = Int32(line[..<eq]) else { continue }
            let key = String(line[line.index(after: eq)...])
            if Socket.isListening(fd) {
                inheritedListeners[key] = fd
            }
        }
        let now = SystemClock.monotonicNanos()
        for line in (env[Inheritance.children] ?? "").split(separator: "\n") {
            let parts = line.split(separator: ",", maxSplits: 4, omittingEmptySubsequences: false)
            guard parts.count == 5, let pid = pid_t(parts[0]), let control = Int32(parts[1]),
                  let childGeneration = Int(parts[2]) else { continue }
            if control >= 0 { try? FileIO.setCloseOnExec(control, true) }
            var child = Child(pid: pid, pool: String(parts[4]), slot: nil, generation: childGeneration, control: control,
                              startedMono: now, startEpoch: SystemClock.epochSeconds(), isExec: control < 0)
            if parts[3] == "1" { child.quitAt = now }
            children[pid] = child
        }
        unsetenv(Inheritance.listeners)
        unsetenv(Inheritance.children)
        unsetenv(Inheritance.generation)
        unsetenv(Inheritance.reloadFailures)
        // Children that exited while we were exec'ing are reaped by the first SIGCHLD pass.
        reapChildren()
        return true
    }

    /// SIGUSR1: reopen the error log and access logs; hand the new descriptors to every worker
    /// over its control channel, so no worker is recycled for a log rotation.
    func reopenLogs() {
        var errorLogReopened = true
        do {
            try log.reopen()
        } catch {
            errorLogReopened = false
            log.error("unable to reopen the error log: \(error)")
        }
        var reopenedPools: [String] = []
        for pool in pools {
            guard let path = pool.config.accessLog, let oldFD = pool.accessLogFD else { continue }
            do {
                let fresh = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
                try FileIO.dup2(fresh, oldFD)
                FileIO.close(fresh)
                try FileIO.setCloseOnExec(oldFD, true)
                reopenedPools.append(pool.name)
            } catch {
                log.error("[pool \(pool.name)] unable to reopen the access log: \(error)")
            }
        }
        // Hand the new files to the workers before saying so: whoever reads the log line and
        // sends a request then finds it logged in the new file.
        for child in children.values where child.control >= 0 && child.generation == generation {
            guard let pool = pools.first(where: { $0.name == child.pool }) else { continue }
            var fds: [Int32] = [log.fd]
            if let a = pool.accessLogFD { fds.append(a) }
            var byte = UInt8(ascii: "L")
            _ = cfpm_send_fds(child.control, fds, Int32(fds.count), &byte, 1)
        }
        if errorLogReopened { log.notice("error log file re-opened") }
        for name in reopenedPools { log.notice("[pool \(name)] access log file re-opened") }
    }
}
