/// One pool's counters as the status page shows them.
///
/// Plain values: the worker answering `/status` (or `fpmctl status`) fills this from the
/// shared-memory scoreboard and hands it to ``StatusPage/render(pool:processes:format:full:)``.
/// Field names follow php-fpm's labels (`accepted conn` → ``acceptedConn``).
package struct PoolStatus: Sendable, Equatable {
    /// The pool's name (`[www]`).
    package var pool: String
    /// `static`, `dynamic` or `ondemand`.
    package var processManager: String
    /// When the pool (re)started, seconds since the epoch.
    package var startTime: Int
    /// Seconds since ``startTime``.
    package var startSince: Int
    /// Requests accepted by the pool, status and ping included.
    package var acceptedConn: Int
    /// Connections waiting in the listen backlog (TCP only; 0 otherwise).
    package var listenQueue: Int
    /// The highest ``listenQueue`` seen since the pool started.
    package var maxListenQueue: Int
    /// The size of the listen backlog.
    package var listenQueueLen: Int
    package var idleProcesses: Int
    package var activeProcesses: Int
    /// Idle + active.
    package var totalProcesses: Int
    /// The highest ``activeProcesses`` seen since the pool started.
    package var maxActiveProcesses: Int
    /// Times the process manager wanted a child but hit `pm.max_children`.
    package var maxChildrenReached: Int
    /// Requests that exceeded `request_slowlog_timeout`.
    package var slowRequests: Int
    /// swift-fpm addition: `pm.max_children`, which php-fpm's page lacks (php-src#16221).
    /// `nil` omits it, giving php-fpm's exact output. Rendered after php-fpm's fields so
    /// parsers written for php-fpm keep working.
    package var maxChildren: Int?
    /// swift-fpm addition: workers replaced for passing `pm.max_memory`; `nil` (the pool has no
    /// limit) omits it. Rendered last, like ``maxChildren``.
    package var memoryReplacements: Int?
    /// swift-fpm addition: requests the master answered 503 itself (`pm.max_queue_wait`, or the
    /// pool had no worker); `nil` omits it. Rendered last, like ``maxChildren``.
    package var rejectedRequests: Int?
    /// swift-fpm addition (OpenMetrics only): the pool's limits; `nil` omits them.
    package var limits: Scoreboard.Limits?
    /// swift-fpm addition (OpenMetrics only): every finished request's duration, by bucket;
    /// `nil` omits the histogram.
    package var requestDurations: Scoreboard.DurationHistogram?
    /// swift-fpm addition: a job pool's figures (`JobPoolFigures`); `nil` for a FastCGI pool.
    package var jobs: JobPoolFigures? = nil

    package init(
        pool: String,
        processManager: String,
        startTime: Int,
        startSince: Int,
        acceptedConn: Int = 0,
        listenQueue: Int = 0,
        maxListenQueue: Int = 0,
        listenQueueLen: Int = 0,
        idleProcesses: Int = 0,
        activeProcesses: Int = 0,
        totalProcesses: Int = 0,
        maxActiveProcesses: Int = 0,
        maxChildrenReached: Int = 0,
        slowRequests: Int = 0,
        maxChildren: Int? = nil,
        memoryReplacements: Int? = nil,
        rejectedRequests: Int? = nil,
        limits: Scoreboard.Limits? = nil,
        requestDurations: Scoreboard.DurationHistogram? = nil
    ) {
        self.pool = pool
        self.processManager = processManager
        self.startTime = startTime
        self.startSince = startSince
        self.acceptedConn = acceptedConn
        self.listenQueue = listenQueue
        self.maxListenQueue = maxListenQueue
        self.listenQueueLen = listenQueueLen
        self.idleProcesses = idleProcesses
        self.activeProcesses = activeProcesses
        self.totalProcesses = totalProcesses
        self.maxActiveProcesses = maxActiveProcesses
        self.maxChildrenReached = maxChildrenReached
        self.slowRequests = slowRequests
        self.maxChildren = maxChildren
        self.memoryReplacements = memoryReplacements
        self.rejectedRequests = rejectedRequests
        self.limits = limits
        self.requestDurations = requestDurations
    }
}

/// One worker's line in the `full` status page.
package struct ProcessStatus: Sendable, Equatable {
    /// A worker's request stage, with php-fpm's status-page names as raw values.
    package enum State: String, Sendable, CaseIterable {
        case idle = "Idle"
        case readingHeaders = "Reading headers"
        case gettingRequestInformation = "Getting request information"
        case running = "Running"
        case ending = "Ending"
        case finishing = "Finishing"
    }

    package var pid: Int32
    package var state: State
    /// When the worker started, seconds since the epoch.
    package var startTime: Int
    /// Seconds since ``startTime``.
    package var startSince: Int
    /// Requests served by this worker.
    package var requests: Int
    /// Microseconds: the last request's duration when idle, else the time since accept.
    package var requestDuration: Int
    /// Empty renders as `-`.
    package var requestMethod: String
    /// The script-name-derived URI (php-fpm's `request_uri`), without the query.
    package var requestURI: String
    /// Appended to ``requestURI`` after a `?` when not empty, as php-fpm shows it.
    package var queryString: String
    /// The request body's length.
    package var contentLength: Int
    /// The HTTP-authenticated user; empty renders as `-`.
    package var user: String
    /// The script's path; empty (e.g. for the status request itself) renders as `-`.
    package var script: String
    /// Percent of one CPU used by the last request. php-fpm reports 0 unless the worker is
    /// idle; the caller decides (this type shows what it is given).
    package var lastRequestCPU: Double
    /// Peak memory of the last request, bytes; php-fpm reports 0 unless idle.
    package var lastRequestMemory: Int
    /// The current or last request's id and trace id (FPMServer's `RequestIdentity`); empty when the
    /// pool does not record them.
    package var requestID: String
    package var traceID: String

    package init(
        pid: Int32,
        state: State,
        startTime: Int,
        startSince: Int,
        requests: Int = 0,
        requestDuration: Int = 0,
        requestMethod: String = "",
        requestURI: String = "",
        queryString: String = "",
        contentLength: Int = 0,
        user: String = "",
        script: String = "",
        lastRequestCPU: Double = 0,
        lastRequestMemory: Int = 0,
        requestID: String = "",
        traceID: String = ""
    ) {
        self.pid = pid
        self.state = state
        self.startTime = startTime
        self.startSince = startSince
        self.requests = requests
        self.requestDuration = requestDuration
        self.requestMethod = requestMethod
        self.requestURI = requestURI
        self.queryString = queryString
        self.contentLength = contentLength
        self.user = user
        self.script = script
        self.lastRequestCPU = lastRequestCPU
        self.lastRequestMemory = lastRequestMemory
        self.requestID = requestID
        self.traceID = traceID
    }
}
