import FastCGI
import Foundation
import Testing

/// A request's identity through nginx and the real binaries: the client's `traceparent` gives
/// the trace id that the access log (`%I`), the slowlog entry and `fpmctl status --full` show.
@Suite(.serialized) struct RequestIdentityIntegrationTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let traceparent = "00-\(traceID)-00f067aa0ba902b7-01"

    @Test func aTraceparentThroughNginxIsInTheAccessLogTheSlowlogAndTheStatus() throws {
        let server = try FPMServer(pool: """
            pm = static
            pm.max_children = 1
            access.log = {{DIR}}/access.log
            access.format = "%m %r %s %{request}I %{trace}I %{parent}I"
            slowlog = {{DIR}}/slow.log
            request_slowlog_timeout = 1
            """)
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 2)
        let answer = StatusBox()
        let port = nginx.port
        let slow = BackgroundTask {
            answer.status = (try? HTTPClient.request(port: port, method: "GET", path: "/sleep?ms=1800", body: [],
                                                     headers: [("traceparent", Self.traceparent)]).status) ?? -1
        }
        // While it sleeps, fpmctl names the request in flight.
        var status = ""
        #expect(TestSupport.waitUntil(timeout: 10) {
            status = (try? server.fpmctl(["-y", server.configPath, "status", "--full"]).stdout) ?? ""
            return status.contains("request id:           \(Self.traceID)")
        }, "\(status)")
        #expect(status.contains("trace id:             \(Self.traceID)"), "\(status)")
        #expect(slow.wait(timeout: 20))
        #expect(answer.status == 200)

        let slowlog = server.dir + "/slow.log"
        #expect(TestSupport.waitUntil { TestSupport.read(slowlog).contains("trace_id = ") }, "\(TestSupport.read(slowlog))")
        let entry = TestSupport.read(slowlog)
        #expect(entry.contains("request = GET /sleep?ms=1800\nrequest_id = \(Self.traceID)\ntrace_id = \(Self.traceID)\n"), "\(entry)")

        // An X-Request-Id is the request id; a forged traceparent starts a new trace.
        #expect(try nginx.get("/pid", headers: [("X-Request-Id", "edge-42"), ("traceparent", "00-zz")]).status == 200)
        let access = server.dir + "/access.log"
        #expect(TestSupport.waitUntil { TestSupport.read(access).split(separator: "\n").count == 2 }, "\(TestSupport.read(access))")
        let lines = TestSupport.read(access).split(separator: "\n").map(String.init)
        #expect(lines[0] == "GET /sleep 200 \(Self.traceID) \(Self.traceID) 00f067aa0ba902b7", "\(lines)")
        let second = lines[1].split(separator: " ")
        #expect(second.count == 6 && second[3] == "edge-42" && second[4].count == 32 && second[4] != Self.traceID[...]
                && second[5] == "-", "\(lines[1])")

        // With neither header, the handler's request.id is the new trace id the log shows.
        let own = try nginx.get("/request-id")
        #expect(TestSupport.waitUntil { TestSupport.read(access).split(separator: "\n").count == 3 })
        let third = TestSupport.read(access).split(separator: "\n")[2].split(separator: " ")
        #expect(own.text == "\(third[3])\n" && third[3] == third[4] && third[3].count == 32, "\(own.text) \(third)")
    }
}

/// The slow request's answer, set on its own thread and read after it ended.
private final class StatusBox: @unchecked Sendable {
    var status = 0
}
