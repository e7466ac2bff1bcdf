import FPMConfiguration
import FPMStatus
import FPMSystem

/// A worker's side of the built-in pages (FPMStatus's ``BuiltInPages``): the page a request
/// names, written to its response in place of the pool's handler.
extension BuiltInPages {
    static func serve(pool: PoolRuntime, request: ServerRequest, response: ServerResponse) throws -> Bool {
        try serve(config: pool.config, request: request, response: response,
                  withdrawn: { pool.scoreboard.masterReadiness.withdrawnBecause }) { query in
            let (poolStatus, processes) = StatusCollector.collect(pool.scoreboard, liveQueue: Socket.listenQueue(pool.listenFD))
            return StatusPage.render(pool: poolStatus, processes: processes, query: query)
        }
    }

    /// The pages of `config`, the status page rendered by `statusPage` (nil: the status path is
    /// not served here, as in `TestClient`, which has no scoreboard). Returns whether a page
    /// answered the request. `withdrawn` says why the master asks for no work (nil: it does):
    /// then ping answers 503 with that reason, so a balancer probing ping through the pool
    /// stops sending during a stop or a drain (read only when ping is asked for).
    package static func serve(config: PoolConfiguration, request: ServerRequest, response: ServerResponse,
                              withdrawn: () -> String? = { nil },
                              statusPage: ((StatusQuery) -> StatusPage.RenderedPage)?) throws -> Bool {
        guard config.pingPath != nil || config.statusPath != nil else { return false }
        let page: StatusPage.RenderedPage
        switch BuiltInPages.page(at: matchedPath(scriptName: request.scriptName, pathInfo: request.pathInfo), config: config) {
        case .ping?:
            if let reason = withdrawn() {
                response.status = 503
                page = PingPage.render(response: reason + "\n")
            } else {
                page = PingPage.render(response: config.pingResponse)
            }
        case .status?:
            guard let statusPage else { return false }
            page = statusPage(StatusQuery(queryString: request.queryString))
        case nil:
            return false
        }
        try response.setHeader("Content-Type", page.contentType)
        for h in page.headers where h.name.lowercased() != "content-type" { try response.setHeader(h.name, h.value) }
        try response.write(page.body)
        return true
    }
}
