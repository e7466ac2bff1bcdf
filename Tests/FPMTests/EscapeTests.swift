import FPM
import FPMTesting
import Testing

/// A `Request` or `Response` kept past its handler traps in debug builds, with a message that
/// says why, instead of reading or writing another request's state.
@Suite struct EscapeTests {
    #if DEBUG
    @Test func anEscapedRequestTraps() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            final class Box { var request: Request? }
            let box = Box()
            let router = Router()
            router.get("/") { request, response in
                box.request = request
                try response.send("\(request.path)\n")
            }
            let client = try TestClient(router)
            guard client.get("/").text == "/\n" else { return }
            _ = box.request?.path
        }.map { result in
            #expect(String(decoding: result.standardErrorContent, as: UTF8.self).contains("FPM.Request used after its handler returned"))
        }
    }

    @Test func anEscapedResponseTraps() async {
        await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            final class Box { var response: Response? }
            let box = Box()
            let router = Router()
            router.get("/") { _, response in
                box.response = response
                try response.send("ok\n")
            }
            let client = try TestClient(router)
            guard client.get("/").status == .ok else { return }
            try box.response?.write("late")
        }.map { result in
            #expect(String(decoding: result.standardErrorContent, as: UTF8.self).contains("FPM.Response used after its handler returned"))
        }
    }
    #endif

    @Test func copiedValuesOutliveTheHandler() throws {
        nonisolated(unsafe) var kept: (path: String, query: String?) = ("", nil)
        let router = Router()
        router.get("/a") { request, response in
            kept = (request.path, request.query["q"])
            try response.send("ok\n")
        }
        _ = try TestClient(router).get("/a?q=1")
        #expect(kept.path == "/a" && kept.query == "1")
    }
}
