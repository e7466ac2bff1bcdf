import FPMConfiguration
import FPMSystem

/// The worker's half of the slowlog's stack: after fork, before the privilege drop, a Swift
/// worker of a pool with `request_slowlog_timeout` opens the slowlog and installs the handler
/// that appends its backtrace when the master asks (`SlowlogTrace`), up to
/// `request_slowlog_trace_depth` frames.
extension Master {
    func installSlowlogTrace(_ pool: PoolRuntime) {
        let config = pool.config
        guard config.requestSlowlogTimeout > 0, let path = config.slowlog else { return }
        do {
            try SlowlogTrace.install(path: path, reopenPath: config.chroot == nil ? path : nil,
                                     depth: config.requestSlowlogTraceDepth, master: pid)
        } catch {
            log.warning("[pool \(pool.name)] child \(Processes.pid): the slowlog will have no stack: \(error)")
        }
    }
}
