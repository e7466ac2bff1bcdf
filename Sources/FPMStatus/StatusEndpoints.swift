/// What a `pm.status_listen` socket answers, by SCRIPT_NAME (matched exactly, as php-fpm
/// matches its status and ping paths):
///
/// * the pool's `ping.path` → `ping.response` (php-fpm's ping page), or `503` with the reason
///   while a stop or a drain withdraws readiness, as the workers' ping page answers then;
/// * the pool's `pm.status_path`, or `/` when it has none (as php-fpm's status pool does) →
///   the pool's status page, every format and `full`;
/// * `/live` and `/ready` → ``Health``'s verdict: `200` when it holds, `503` when not, with a
///   one-line reason as the body;
/// * anything else → `404`. Unlike php-fpm's hidden status pool, which runs any script it is
///   sent, nothing else is served here.
///
/// Pure: the status and health figures come from the caller, read at the moment of the request.
package struct StatusEndpoints: Sendable, Equatable {
    package static let livePath = "/live"
    package static let readyPath = "/ready"

    package var statusPath: String
    package var pingPath: String?
    package var pingResponse: String

    package init(statusPath: String?, pingPath: String?, pingResponse: String) {
        self.statusPath = statusPath ?? "/"
        self.pingPath = pingPath
        self.pingResponse = pingResponse
    }

    package func answer(_ request: StatusConnection.Request, status: () -> (PoolStatus, [ProcessStatus]),
                        health: () -> Health.Verdict, withdrawn: String? = nil) -> StatusConnection.Answer {
        let path = request.scriptName
        if let pingPath, path == pingPath {
            let page = PingPage.render(response: withdrawn.map { $0 + "\n" } ?? pingResponse)
            return StatusConnection.Answer(status: withdrawn == nil ? 200 : 503, headers: page.headers, body: page.body)
        }
        if path == statusPath {
            let (pool, processes) = status()
            let page = StatusPage.render(pool: pool, processes: processes, query: StatusQuery(queryString: request.queryString))
            return StatusConnection.Answer(headers: page.headers, body: page.body)
        }
        if path == StatusEndpoints.livePath || path == StatusEndpoints.readyPath {
            let verdict = health()
            let isLive = path == StatusEndpoints.livePath
            let ok = isLive ? verdict.live : verdict.ready
            let page = PingPage.render(response: (isLive ? verdict.liveReason : verdict.reason) + "\n")
            return StatusConnection.Answer(status: ok ? 200 : 503, headers: page.headers, body: page.body)
        }
        return StatusConnection.Answer(status: 404, headers: [StatusPage.Header(name: "Content-Type", value: PingPage.contentType)],
                                       body: Array("Not found: the status listener answers \(statusPath), \(pingPath.map { "\($0), " } ?? "")\(StatusEndpoints.livePath) and \(StatusEndpoints.readyPath).\n".utf8))
    }
}
