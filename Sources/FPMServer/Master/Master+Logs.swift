import FPMConfiguration
import FPMSystem
import Glibc

extension Master {
    /// SIGUSR1: reopen the error log and access logs; hand the new descriptors to every worker
    /// over its control channel, so no worker is recycled for a log rotation.
    func reopenLogs() {
        var errorLogReopened = true
        var failures: [String] = []
        do {
            try log.reopen()
        } catch {
            errorLogReopened = false
            failures.append("error log: \(error)")
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
                failures.append("[pool \(pool.name)] access log \(path): \(error)")
                log.error("[pool \(pool.name)] unable to reopen the access log: \(error)")
            }
        }
        // Hand the new files to the workers before saying so: whoever reads the log line and
        // sends a request then finds it logged in the new file.
        for child in control.children.values where child.generation == generation {
            guard let channel = child.control, let pool = poolsByName[child.pool],
                  let accessLog = pool.accessLogFD else { continue }
            _ = ControlMessage.reopenAccessLog(accessLog).send(over: channel)
        }
        if errorLogReopened { log.notice("error log file re-opened") }
        for name in reopenedPools { log.notice("[pool \(name)] access log file re-opened") }
        // fpmctl reopen waits for the count to move and reports the outcome.
        reopens += 1
        lastReopenError = failures.joined(separator: "; ")
        writeState()
    }
}
