import FPM

/// The test app's async routes (an ``AsyncHandler`` the sync `TestApp` passes `/async/…` to):
/// `/async/throw` throws; `/async/sleep?ms=M` awaits `Task.sleep` (past
/// request_terminate_timeout: a 504); `/async/hop` awaits a continuation resumed on another
/// thread.
final class AsyncRoutes: AsyncHandler {
    func handle(_ request: Request, _ response: Response) async throws {
        switch request.path {
        case "/async/throw":
            struct AsyncBoom: Error, CustomStringConvertible { var description: String { "async boom from the test app" } }
            await Task.yield()
            throw AsyncBoom()
        case "/async/sleep":
            let ms = Int(request.query["ms"] ?? "100") ?? 100
            try await Task.sleep(for: .milliseconds(ms))
            try response.write("slept \(ms) async\n")
        case "/async/hop":
            let value: Int = await withCheckedContinuation { continuation in
                Task.detached { continuation.resume(returning: 42) }
            }
            try response.write("hopped \(value)\n")
        default:
            try response.write("pid \(pidText)\n")
        }
    }

    /// The worker's pid as text, set by the test app's setUp.
    var pidText = ""
}

/// `/async`: what `/pid` answers, from an async handler that awaits nothing — the same work as
/// the synchronous route, so `bench/instructions.sh /pid /async` and `make bench` measure only
/// the async path's own cost.
final class AsyncPID: AsyncHandler {
    func handle(_ request: Request, _ response: Response) async throws {
        try response.write("pid \(pidText)\n")
    }

    /// The worker's pid as text, set by the test app's setUp.
    var pidText = ""
}
