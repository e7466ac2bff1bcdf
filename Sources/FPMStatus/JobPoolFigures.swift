/// A job pool's own figures on the status page, after php-fpm's fields (whose `accepted conn`
/// counts jobs taken, and `listen queue` gearmand's backlog, for a job pool); each worker's
/// line shows the job in hand as a request's: method `JOB`, the function as the request URI,
/// the job handle as the script, the time since it was taken as the request duration.
package struct JobPoolFigures: Sendable, Equatable {
    /// `connected`, `disconnected` or `unknown` (no answer yet): the master's last backlog query.
    package var gearman: String
    package var jobsDone: Int
    package var jobsFailed: Int
    package var jobsInProgress: Int
    /// An exec job pool's programs that ended on their own and were started again.
    package var restarts: Int
    /// gearmand's jobs queued and not running for the pool's functions.
    package var backlog: Int
    package var maxBacklog: Int

    package init(gearman: String, jobsDone: Int, jobsFailed: Int, jobsInProgress: Int, restarts: Int, backlog: Int, maxBacklog: Int) {
        self.gearman = gearman
        self.jobsDone = jobsDone
        self.jobsFailed = jobsFailed
        self.jobsInProgress = jobsInProgress
        self.restarts = restarts
        self.backlog = backlog
        self.maxBacklog = maxBacklog
    }

    /// The figures of a job pool's scoreboard; nil for a FastCGI pool's.
    package init?(_ scoreboard: Scoreboard, active: Int) {
        guard scoreboard.isJobPool else { return nil }
        self.init(gearman: scoreboard.gearmanState.displayName, jobsDone: scoreboard.jobsDone, jobsFailed: scoreboard.jobsFailed,
                  jobsInProgress: active, restarts: scoreboard.restarts, backlog: scoreboard.backlog,
                  maxBacklog: scoreboard.maxBacklog)
    }

    /// The status page's fields (text, JSON, XML, HTML labels).
    var fields: [(String, StatusPage.Value)] {
        [("gearman", .string(gearman)), ("jobs done", .int(jobsDone)), ("jobs failed", .int(jobsFailed)),
         ("jobs in progress", .int(jobsInProgress)), ("restarts", .int(restarts)), ("backlog", .int(backlog)),
         ("max backlog", .int(maxBacklog))]
    }

    /// The OpenMetrics families (the job-duration histogram is the pool's duration histogram,
    /// named for jobs: `OpenMetricsRendering`).
    func appendMetrics(strict: Bool, into out: inout [UInt8]) {
        let total = strict ? "_total" : ""
        StatusPage.metric("gearman_connected", "Whether gearmand answered the master's last backlog query (1) or not (0).",
                          .gauge, gearman == "connected" ? 1 : 0, into: &out)
        StatusPage.metric("jobs_done", "The number of jobs the pool's workers completed (WORK_COMPLETE).", .counter, jobsDone,
                          sample: total, into: &out)
        StatusPage.metric("jobs_failed", "The number of jobs that failed (WORK_FAIL or WORK_EXCEPTION).", .counter, jobsFailed,
                          sample: total, into: &out)
        StatusPage.metric("jobs_in_progress", "The number of jobs the pool's workers have in hand.", .gauge, jobsInProgress,
                          into: &out)
        StatusPage.metric("job_restarts", "The number of an exec job pool's programs that ended on their own and were restarted.",
                          .counter, restarts, sample: total, into: &out)
        StatusPage.metric("gearman_backlog", "The jobs gearmand holds for the pool's functions that no worker runs yet.", .gauge,
                          backlog, into: &out)
    }
}
