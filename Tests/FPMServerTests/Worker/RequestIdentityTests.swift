@testable import FPMServer
@testable import FPMStatus
import FastCGI
import FPMSystem
import Foundation
import Testing

@Suite("W3C traceparent, read strictly")
struct TraceParentTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func aValidHeaderGivesItsFields() throws {
        let parsed = try #require(TraceParent(Self.valid))
        #expect(parsed.traceIDHigh == 0x4bf9_2f35_77b3_4da6)
        #expect(parsed.traceIDLow == 0xa3ce_929d_0e0e_4736)
        #expect(parsed.parentID == 0x00f0_67aa_0ba9_02b7)
        #expect(parsed.flags == 1)
        #expect(parsed.header == Self.valid)
    }

    @Test(arguments: [
        "",                                                               // empty
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",         // short
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",       // version 00 with more
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01,00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // uppercase
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // forbidden version
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // not hex
        "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // separator
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",        // flags not hex
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",       // leading space
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",       // later version, no dash after
    ])
    func invalidHeadersAreRefused(_ value: String) {
        #expect(TraceParent(value) == nil)
    }

    @Test func aLaterVersionIsReadAsVersion00KeepingOnlyTheSampledFlag() throws {
        let parsed = try #require(TraceParent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-what-ever"))
        #expect(parsed.traceIDLow == 0xa3ce_929d_0e0e_4736)
        #expect(parsed.flags == 1)
        #expect(TraceParent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00") != nil)
    }
}

@Suite("Request identity: id, trace, validation")
struct RequestIdentityTests {
    @Test(arguments: ["abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "req_1.2:3+4/5=@x", String(repeating: "a", count: 128)])
    func safeRequestIDsAreKept(_ id: String) {
        #expect(RequestIdentity.isValidRequestID(id))
    }

    @Test(arguments: ["", "has space", "quote\"d", "back\\slash", "new\nline", "tab\t", "é", "<script>",
                      String(repeating: "a", count: 129), "semi;colon", "per%cent"])
    func unsafeRequestIDsAreRefused(_ id: String) {
        #expect(!RequestIdentity.isValidRequestID(id))
    }

    @Test func aTraceparentContinuesTheTraceWithANewSpan() {
        let params = FastCGIParams([("HTTP_TRACEPARENT", TraceParentTests.valid)])
        let identity = RequestIdentity(params: params)
        #expect(identity.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(identity.requestID == identity.traceID)
        #expect(identity.parentID == 0x00f0_67aa_0ba9_02b7)
        #expect(identity.spanID != 0 && identity.spanID != identity.parentID)
        #expect(identity.continuesTrace)
        #expect(identity.outgoingTraceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-\(identity.spanIDHex)-01")
    }

    @Test func anXRequestIDIsTheRequestIDBesideANewTrace() {
        let params = FastCGIParams([("HTTP_X_REQUEST_ID", "edge-42"), ("HTTP_TRACEPARENT", "garbage")])
        let identity = RequestIdentity(params: params)
        #expect(identity.requestID == "edge-42")
        #expect(!identity.continuesTrace)
        #expect(identity.traceID.count == 32 && identity.traceID != String(repeating: "0", count: 32))
        #expect(identity.outgoingTraceparent.hasPrefix("00-\(identity.traceID)-"))
    }

    @Test func anUnsafeXRequestIDIsReplacedByTheTraceID() {
        let identity = RequestIdentity(params: FastCGIParams([("HTTP_X_REQUEST_ID", "a b\" c")]))
        #expect(identity.clientRequestID == nil)
        #expect(identity.requestID == identity.traceID)
    }

    @Test func newIDsDifferFromRequestToRequest() {
        let ids = (0..<1000).map { _ in RequestIdentity(params: FastCGIParams([])).traceID }
        #expect(Set(ids).count == 1000)
    }

    @Test func aRequestResolvesItsIdentityOnceAndOnlyWhenAsked() {
        let request = ServerRequest(params: FastCGIParams([]), body: nil)
        #expect(request.resolvedIdentity == nil)
        let first = request.identity
        #expect(request.identity == first)
    }

    @Test func theIdentityBytesAreTheStrings() {
        let identity = RequestIdentity(params: FastCGIParams([("HTTP_X_REQUEST_ID", "xyz")]))
        #expect(identity.withRequestIDBytes { String(decoding: $0, as: UTF8.self) } == "xyz")
        #expect(identity.withTraceIDBytes { String(decoding: $0, as: UTF8.self) } == identity.traceID)
    }
}

@Suite("Access log %I")
struct AccessLogIdentityTests {
    static let identity = RequestIdentity(traceIDHigh: 0x4bf9_2f35_77b3_4da6, traceIDLow: 0xa3ce_929d_0e0e_4736,
                                          spanID: 0x1122_3344_5566_7788, parentID: 0x00f0_67aa_0ba9_02b7, flags: 1)

    private func render(_ format: String, _ identity: RequestIdentity?) throws -> String {
        let compiled = try AccessLogFormat(parsing: format)
        var buffer: [UInt8] = []
        compiled.render(AccessLogRecord(status: 200, identity: identity), into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test func everyPartRenders() throws {
        let line = try render("%I|%{request}I|%{trace}I|%{span}I|%{parent}I|%{TRACE}I %s", Self.identity)
        #expect(line == "4bf92f3577b34da6a3ce929d0e0e4736|4bf92f3577b34da6a3ce929d0e0e4736|4bf92f3577b34da6a3ce929d0e0e4736|1122334455667788|00f067aa0ba902b7|4bf92f3577b34da6a3ce929d0e0e4736 200\n")
    }

    @Test func aClientIDAndANewTraceRender() throws {
        var identity = Self.identity
        identity.clientRequestID = "edge-42"
        identity.parentID = 0
        #expect(try render("%I %{parent}I", identity) == "edge-42 -\n")
        #expect(try render("%I %{trace}I", nil) == "- -\n")
    }

    @Test func onlyAFormatWithITokensUsesTheIdentity() throws {
        #expect(try AccessLogFormat(parsing: "%R %{trace}I").usesIdentity)
        #expect(try !AccessLogFormat(parsing: AccessLogFormat.defaultFormat).usesIdentity)
    }

    @Test func anUnknownModifierIsRefusedWithTheAllowedOnes() {
        #expect(AccessLogFormat.validate("%{nope}I")
                == "only 'request', 'trace', 'span' or 'parent' are allowed as a modifier for %I ('nope')")
    }
}

@Suite struct ScoreboardIdentityTests {
    @Test func theSlotCarriesTheRequestIDAndTraceIDUntilTheNextRequest() throws {
        let path = NSTemporaryDirectory() + "sb-\(UUID().uuidString)"
        defer { unlink(path) }
        let board = try Scoreboard(create: path, pool: "www", listen: "127.0.0.1:9000", pm: 1, slots: 1,
                                   masterPID: 42, generation: 1)
        let slot = board.slot(0)
        slot.claim(pid: 99, generation: 1)
        slot.beginRequest(now: SystemClock.monotonicNanos(), epochMicros: SystemClock.epochMicros())
        var identity = AccessLogIdentityTests.identity
        identity.clientRequestID = String(repeating: "r", count: RequestIdentity.maxRequestIDLength)
        identity.withRequestIDBytes { r in identity.withTraceIDBytes { t in slot.setIdentity(requestID: r, traceID: t) } }
        let reader = try Scoreboard(open: path)
        let snap = try #require(reader.snapshot(0))
        #expect(snap.requestID == identity.clientRequestID)
        #expect(snap.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(snap.script.isEmpty)
        slot.beginRequest(now: SystemClock.monotonicNanos(), epochMicros: SystemClock.epochMicros())
        #expect(try #require(reader.snapshot(0)).requestID.isEmpty)
    }
}

@Suite struct StatusIdentityTests {
    let pool = PoolStatus(pool: "www", processManager: "static", startTime: 0, startSince: 0)
    let busy = ProcessStatus(pid: 7, state: .running, startTime: 0, startSince: 1, requestMethod: "GET", requestURI: "/sleep",
                             requestID: "edge-42", traceID: "4bf92f3577b34da6a3ce929d0e0e4736")
    let other = ProcessStatus(pid: 8, state: .idle, startTime: 0, startSince: 1)

    @Test func everyFullViewNamesTheRequestInFlight() {
        let text = StatusPage.render(pool: pool, processes: [busy, other], format: .text, full: true).bodyText
        #expect(text.contains("request id:           edge-42\ntrace id:             4bf92f3577b34da6a3ce929d0e0e4736\n"))
        #expect(text.contains("request id:           -\n"))
        let json = StatusPage.render(pool: pool, processes: [busy, other], format: .json, full: true).bodyText
        #expect(json.contains(#""request id":"edge-42","trace id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#))
        let html = StatusPage.render(pool: pool, processes: [busy, other], format: .html, full: true).bodyText
        #expect(html.contains("<th>request id</th><th>trace id</th></tr>"))
        let metrics = StatusPage.render(pool: pool, processes: [busy, other], format: .openmetrics, full: true).bodyText
        #expect(metrics.contains(#"phpfpm_process_request_identity{pid="7",request_id="edge-42",trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 1"#))
        #expect(!metrics.contains(#"process_request_identity{pid="8""#))
        // An idle worker's last request makes no series.
        var idle = busy
        idle.state = .idle
        let idleMetrics = StatusPage.render(pool: pool, processes: [idle], format: .openmetrics, full: true).bodyText
        #expect(!idleMetrics.contains("request_identity"))
        #expect(StatusPage.render(pool: pool, processes: [idle], format: .text, full: true).bodyText.contains("request id:           edge-42"))
    }

    @Test func aPoolThatRecordsNoIDsKeepsPHPFPMsFields() {
        let text = StatusPage.render(pool: pool, processes: [other], format: .text, full: true).bodyText
        #expect(!text.contains("request id"))
        let metrics = StatusPage.render(pool: pool, processes: [other], format: .openmetrics, full: true).bodyText
        #expect(!metrics.contains("request_identity"))
    }
}
