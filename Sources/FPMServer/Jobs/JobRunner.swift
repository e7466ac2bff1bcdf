import FPMConfiguration

/// One Gearman job as the server hands it to a job handler: what JOB_ASSIGN_UNIQ carried.
package struct ServerJob {
    package var function: String
    package var handle: String
    package var unique: String
    package var payload: [UInt8]

    package init(function: String, handle: String, unique: String, payload: [UInt8]) {
        self.function = function
        self.handle = handle
        self.unique = unique
        self.payload = payload
    }
}

/// Where a running job's interim reports go: the job worker's connection (WORK_STATUS,
/// WORK_DATA) or, in FPMTesting, a recorder.
package protocol JobReports: AnyObject {
    func progress(handle: String, done: Int, of total: Int) throws
    func data(handle: String, _ bytes: [UInt8]) throws
}

/// How a job ended, as the worker reports it to gearmand: WORK_COMPLETE with the result,
/// WORK_FAIL, or WORK_EXCEPTION with a text.
package enum ServerJobOutcome: Equatable {
    case completed([UInt8])
    case failed
    case exception(String)

    /// The access log's word for it (`%s` of a job line).
    package var word: String {
        switch self {
        case .completed: "complete"
        case .failed: "fail"
        case .exception: "exception"
        }
    }
}

/// What a job pool's workers run, as the server sees it. A job handler also is a
/// `RequestHandler` so that it travels in the same table of named handlers and shares its
/// `setUp`, `tearDown` and once-per-pool preparation; its `handle` is never called (a FastCGI
/// pool naming a job handler is a configuration error).
package protocol JobRunner: RequestHandler {
    /// Runs one job to its end; every error of the app's code is mapped to an outcome here, so
    /// the worker only reports what it returns.
    func run(_ job: ServerJob, reports: any JobReports) -> ServerJobOutcome
}
