import FPMServer

/// An app's job handler as the server runs it: the one place where what the handler returned
/// or threw becomes an outcome (FPMTesting's `JobTester` goes through it too).
package struct AppJobHandler: JobRunner {
    package let app: any JobHandler

    package init(app: any JobHandler) { self.app = app }

    package func setUp(_ worker: WorkerContext) throws { try app.setUp(WorkerInfo(worker)) }

    package func warmUp(_ pool: PoolContext) throws {
        try app.warmUp(PoolInfo(name: pool.name, environment: pool.environment, configuration: pool.configuration))
    }

    /// Never called: `Launcher.checkHandlers` refuses a FastCGI pool that names a job handler.
    package func handle(_ request: ServerRequest, _ response: ServerResponse) throws {
        throw JobHandlerServesNoRequests()
    }

    package func run(_ job: ServerJob, reports: any JobReports) -> ServerJobOutcome {
        switch outcome(of: Job(function: job.function, handle: job.handle, unique: job.unique, payload: job.payload,
                               reports: reports)) {
        case .completed(let bytes): .completed(bytes)
        case .failed: .failed
        case .exception(let text): .exception(text)
        }
    }

    /// The handler's answer to `job` as an outcome: ``JobFailed`` → `.failed`, any other error
    /// → `.exception` with its description.
    package func outcome(of job: Job) -> JobOutcome {
        do {
            return .completed(try app.run(job))
        } catch is JobFailed {
            return .failed
        } catch {
            return .exception("\(error)")
        }
    }

    package func tearDown() { app.tearDown() }

    package var preparesPool: Bool { (app as? any PoolPreparing)?.preparesPool ?? false }

    package func preparePool(_ pool: PoolContext) throws {
        guard let preparing = app as? any PoolPreparing else { return }
        try preparing.prepare(PoolInfo(name: pool.name, environment: pool.environment, configuration: pool.configuration))
    }
}

struct JobHandlerServesNoRequests: Error, CustomStringConvertible {
    var description: String { "a job handler serves no FastCGI requests" }
}
