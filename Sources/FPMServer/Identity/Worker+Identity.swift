import FPMConfiguration
import FPMStatus
import FPMSystem

extension PoolRuntime {
    /// Whether the worker puts each request's id in its scoreboard slot: when the pool has a
    /// slowlog (whose entries name it) or a status page (`pm.status_path`, `pm.status_listen`),
    /// or its access log shows it anyway. Otherwise no identity is resolved unless the app asks.
    /// `fpmctl status --full` reads the same slot, so it shows ids under the same condition.
    var recordsRequestIdentity: Bool {
        (config.requestSlowlogTimeout > 0 && config.slowlog != nil) || config.statusPath != nil
            || config.statusListen != nil || accessLog?.usesIdentity == true
    }
}

extension Worker {
    /// The request's id and trace id into the scoreboard slot, written in place (no String).
    func recordIdentity(of request: ServerRequest) {
        let identity = request.identity
        identity.withRequestIDBytes { requestID in
            identity.withTraceIDBytes { traceID in slot.setIdentity(requestID: requestID, traceID: traceID) }
        }
    }
}
