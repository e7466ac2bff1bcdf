import FPMServer
import HTTPTypes

/// An app's handler as the server runs it: the public request and response are thin views over
/// the server's (two struct values, no allocation), and an `HTTPError` becomes its answer here,
/// so every other error reaches the worker, which logs it and answers 500.
package struct AppHandler: RequestHandler {
    package let app: any Handler

    package init(app: any Handler) { self.app = app }

    package func setUp(_ worker: WorkerContext) throws { try app.setUp(WorkerInfo(worker)) }

    package func handle(_ request: ServerRequest, _ response: ServerResponse) throws {
        // In a server span when the app bootstrapped a tracer (RequestTracing.swift).
        try RequestTracing.traced(request, response) { try handleUntraced(request, response) }
    }

    func handleUntraced(_ request: ServerRequest, _ response: ServerResponse) throws {
        do {
            try app.handle(Request(request), Response(response))
        } catch let error as HTTPError where !response.headSent {
            try Response(response).answer(error)
        }
    }

    package func tearDown() { app.tearDown() }

    package func warmUp(_ pool: PoolContext) throws {
        try app.warmUp(PoolInfo(name: pool.name, environment: pool.environment, configuration: pool.configuration))
    }

    package var preparesPool: Bool { (app as? any PoolPreparing)?.preparesPool ?? false }

    package func preparePool(_ pool: PoolContext) throws {
        guard let preparing = app as? any PoolPreparing else { return }
        try preparing.prepare(PoolInfo(name: pool.name, environment: pool.environment, configuration: pool.configuration))
    }
}
