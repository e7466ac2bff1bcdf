/// What a pool answers when its handler threw an error that it did not answer itself (an app's
/// `HTTPError` is answered by the FPM adapter before this): a plain 500, unless part of the
/// answer already left, in which case the client gets what was sent. The worker and
/// `TestClient` both answer with this, so a test sees the worker's answer.
package enum HandlerFailure {
    package static func answer(_ response: ServerResponse) {
        guard !response.headSent else { return }
        response.status = 500
        try? response.setHeader("Content-Type", "text/plain; charset=utf-8")
        try? response.write("Internal Server Error\n")
    }
}
