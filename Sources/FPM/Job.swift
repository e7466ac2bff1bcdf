import FPMServer

/// One Gearman job, as a ``JobHandler`` sees it.
public struct Job {
    /// The function name it was submitted to.
    public var function: String
    /// gearmand's job handle (`H:host:N`), as the status page and the access log show it.
    public var handle: String
    /// The client's unique id ("" when none).
    public var unique: String
    /// The workload bytes.
    public var payload: [UInt8]
    /// Where `progress` and `send` go (the worker's connection to gearmand, or a test's recorder).
    let reports: (any JobReports)?

    /// The payload decoded as UTF-8 (invalid sequences replaced).
    public var payloadText: String { String(decoding: payload, as: UTF8.self) }

    /// A job as the server or a test builds it; `progress` and `send` do nothing without a
    /// destination for them.
    public init(function: String, handle: String = "", unique: String = "", payload: [UInt8]) {
        self.init(function: function, handle: handle, unique: unique, payload: payload, reports: nil)
    }

    package init(function: String, handle: String, unique: String, payload: [UInt8], reports: (any JobReports)?) {
        self.function = function
        self.handle = handle
        self.unique = unique
        self.payload = payload
        self.reports = reports
    }

    /// Reports progress to a client waiting on the job (WORK_STATUS): `done` of `total`.
    public func progress(_ done: Int, of total: Int) throws {
        try reports?.progress(handle: handle, done: done, of: total)
    }

    /// Sends part of the result ahead of the end (WORK_DATA) to a client waiting on the job.
    public func send(_ data: [UInt8]) throws {
        try reports?.data(handle: handle, data)
    }
}

/// How a job ended: the result bytes (WORK_COMPLETE), failed (WORK_FAIL, ``JobFailed``), or
/// failed with a text (WORK_EXCEPTION, any other error's description).
public enum JobOutcome: Equatable, Sendable {
    case completed([UInt8])
    case failed
    case exception(String)
}
