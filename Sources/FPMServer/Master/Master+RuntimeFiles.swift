import FPMConfiguration
import FPMStatus
import FPMSystem

/// The master's files: the pid file, the state file `fpmctl` reads, and the clean-up of both
/// (with the scoreboards and unix sockets) at exit or after a master that is gone.
extension Master {
    func writePidFile() throws {
        let path = options.pidOverride ?? configuration.global.pid
        guard let path else { return }
        pidFile = path
        try FileIO.writeFileAtomically(path, "\(pid)\n")
    }

    /// The state file `fpmctl` reads: generation, phase and the outcome of the last reload; and
    /// on each scoreboard, whether the master asks for work (what ping and `fpmctl health` tell).
    func writeState() {
        var state = MasterStateFile(pid: pid, generation: generation, phase: MasterStateFile.Phase(control.phase),
                                    config: configuration.path ?? "(embedded)", pools: pools.map(\.name),
                                    reloadFailures: control.reload.failures, lastReloadError: control.reload.lastError,
                                    reopens: reopens, lastReopenError: lastReopenError,
                                    preparing: control.preparation?.pool ?? "", draining: control.draining,
                                    failing: control.backoff.pools.mapValues(\.lastExit))
        state.templates = warmTemplates.byPool.mapValues { record in
            "pid \(record.pid), " + (record.warmUpNanos.map { "warmUp \($0 / 1_000_000) ms" } ?? "warming up")
        }
        try? state.write(directory: runtimeDirectory, group: runtimeGroup)
        let readiness = control.readinessWithdrawn
        for pool in pools where pool.scoreboard.masterReadiness != readiness { pool.scoreboard.masterReadiness = readiness }
        systemdStateChanged()
    }

    func cleanupFiles() {
        statusListener.closeAll(epoll: epoll)
        if let pidFile { FileIO.unlink(pidFile) }
        for pool in pools {
            pool.scoreboard.memory.removeFile()
            if case .unix(let path) = pool.config.listen, !inherited.isActivated(pool.listenKey) { FileIO.unlink(path) }
        }
        FileIO.unlink(MasterStateFile.path(directory: runtimeDirectory, pid: pid))
    }

    /// Scoreboards and state files of masters that are gone (killed, crashed): nothing else
    /// removes them, and `fpmctl` would keep finding them.
    func removeStaleRuntimeFiles() {
        for name in FileSystem.entries(of: runtimeDirectory) where name.hasPrefix("swift-fpm.") {
            let rest = name.dropFirst("swift-fpm.".count)
            guard let dot = rest.firstIndex(of: "."), let owner = Int32(rest[..<dot]), owner != pid,
                  !Processes.isAlive(owner) else { continue }
            FileIO.unlink("\(runtimeDirectory)/\(name)")
            log.debug("removed \(runtimeDirectory)/\(name) of master \(owner), which is gone")
        }
    }

    func signalDaemonParent(ok: Bool) {
        guard let pipe = daemonReadyPipe else { return }
        try? FileIO.writeAll(pipe, ok ? "1" : "0")
        FileIO.close(pipe)
        daemonReadyPipe = nil
    }
}
