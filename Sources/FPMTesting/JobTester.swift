import FPM
import FPMServer

/// Runs a ``FPM/JobHandler`` in-process, as a job worker would: a job in, its outcome out (what
/// the worker would report to gearmand), with the progress and data reports it sent. No
/// gearmand, no fork.
///
/// ```swift
/// let tester = try JobTester(handler)
/// #expect(try tester.run(function: "reverse", payload: Array("abc".utf8)) == .completed(Array("cba".utf8)))
/// ```
///
/// The tester runs the handler's `setUp` once when made (with a ``FPM/WorkerInfo`` for pool
/// `test`) and `tearDown` on ``close()``.
public final class JobTester {
    /// One interim report a job sent before its end.
    public enum Report: Equatable, Sendable {
        /// WORK_STATUS: `done` of `total`.
        case progress(done: Int, total: Int)
        /// WORK_DATA: part of the result.
        case data([UInt8])
    }

    /// The handler under test.
    public let handler: any JobHandler
    let adapter: AppJobHandler
    let recorder = ReportRecorder()
    var closed = false
    /// The interim reports of the last job run, in order.
    public var reports: [Report] { recorder.reports }
    /// Progress reports of the last job, `(done, total)` in order.
    public var progress: [(done: Int, total: Int)] {
        reports.compactMap { if case .progress(let done, let total) = $0 { (done, total) } else { nil } }
    }
    /// Data reports of the last job, in order.
    public var data: [[UInt8]] { reports.compactMap { if case .data(let bytes) = $0 { bytes } else { nil } } }
    /// How many jobs ran.
    public private(set) var jobsRun = 0

    /// A tester for `handler`; runs its `setUp(worker)` now (its error is thrown here).
    public init(_ handler: any JobHandler, worker: WorkerInfo = WorkerInfo(pool: "test", pid: 1, slot: 0, environment: [])) throws {
        self.handler = handler
        self.adapter = AppJobHandler(app: handler)
        try handler.setUp(worker)
    }

    /// Runs one job through the handler: its outcome; ``reports`` then holds what it sent
    /// meanwhile. `handle` defaults to a made-up one (`H:test:N`).
    public func run(function: String, payload: [UInt8], unique: String = "", handle: String? = nil) throws -> JobOutcome {
        jobsRun += 1
        recorder.reports.removeAll()
        let job = Job(function: function, handle: handle ?? "H:test:\(jobsRun)", unique: unique, payload: payload,
                      reports: recorder)
        return adapter.outcome(of: job)
    }

    /// As `run(function:payload:unique:handle:)` with a UTF-8 text payload.
    public func run(function: String, text: String, unique: String = "", handle: String? = nil) throws -> JobOutcome {
        try run(function: function, payload: Array(text.utf8), unique: unique, handle: handle)
    }

    /// Runs the handler's `tearDown` (once).
    public func close() {
        guard !closed else { return }
        closed = true
        handler.tearDown()
    }
}

/// Keeps what a job reported instead of sending it.
final class ReportRecorder: JobReports {
    var reports: [JobTester.Report] = []

    func progress(handle: String, done: Int, of total: Int) throws { reports.append(.progress(done: done, total: total)) }
    func data(handle: String, _ bytes: [UInt8]) throws { reports.append(.data(bytes)) }
}
