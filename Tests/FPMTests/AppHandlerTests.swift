@testable import FPM
import FPMServer
import FastCGI
import Testing

/// The public API is a view over the server's request and response: what an app sets is what
/// the worker sends.
@Suite struct AppHandlerTests {
    @Test func anAppHandlerWritesThroughTheServerResponse() throws {
        let handler = AppHandler(app: ClosureHandler { request, response in
            response.status = .created
            try response.setHeader("X-Name", request.query["name"] ?? "?")
            try response.write("hello \(request.method.rawValue)\n")
        })
        let sink = BufferResponseSink()
        let request = ServerRequest(params: FastCGIParams([("REQUEST_METHOD", "POST"), ("QUERY_STRING", "name=swift")]), body: nil)
        let response = ServerResponse(sink: sink)
        try handler.handle(request, response)
        try response.finish()
        let text = String(decoding: sink.output, as: UTF8.self)
        #expect(text.hasPrefix("Status: 201 Created\r\n"))
        #expect(text.contains("X-Name: swift\r\n"))
        #expect(text.hasSuffix("\r\n\r\nhello POST\n"))
    }

    @Test func setUpReceivesTheWorkersIdentity() throws {
        final class Box: @unchecked Sendable { var info: WorkerInfo? }
        let box = Box()
        let handler = AppHandler(app: ClosureHandler(setUp: { box.info = $0 }) { _, _ in })
        try handler.setUp(WorkerContext(pool: "www", pid: 42, slot: 3, environment: [("A", "b")]))
        #expect(box.info?.pool == "www")
        #expect(box.info?.pid == 42)
        #expect(box.info?.slot == 3)
        #expect(box.info?.environment.first?.0 == "A")
    }
}
