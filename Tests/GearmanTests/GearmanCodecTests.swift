import Gearman
import Testing

@Suite("Gearman packets: every type both ways")
struct GearmanCodecTests {
    @Test("the samples cover every packet type")
    func coverage() {
        let types = Set(Samples.requests.map(\.packet.type) + Samples.responses.map(\.packet.type))
        let missing = GearmanPacketType.allCases.filter { !types.contains($0) }
        #expect(missing.isEmpty, "no sample for \(missing)")
    }

    @Test("a request survives encoding and parsing", arguments: Samples.requests)
    func requestRoundTrip(_ request: GearmanRequest) throws {
        let packets = try Samples.parse(request.packet.encoded, expecting: .request, chunk: 1 << 20)
        #expect(packets.count == 1)
        #expect(try GearmanRequest(packets[0]) == request)
    }

    @Test("a response survives encoding and parsing", arguments: Samples.responses)
    func responseRoundTrip(_ response: GearmanResponse) throws {
        let packets = try Samples.parse(response.packet.encoded, expecting: .response, chunk: 1 << 20)
        #expect(packets.count == 1)
        #expect(try GearmanResponse(packets[0]) == response)
    }

    @Test("wire bytes match the protocol document's worked example")
    func documentedBytes() throws {
        #expect(GearmanRequest.canDo(function: "reverse").packet.encoded
            == [0, 0x52, 0x45, 0x51, 0, 0, 0, 1, 0, 0, 0, 7] + Array("reverse".utf8))
        #expect(GearmanRequest.grabJob.packet.encoded == [0, 0x52, 0x45, 0x51, 0, 0, 0, 9, 0, 0, 0, 0])
        #expect(GearmanRequest.submit(GearmanSubmission(function: "reverse", payload: Array("test".utf8), background: false)).packet.encoded
            == [0, 0x52, 0x45, 0x51, 0, 0, 0, 7, 0, 0, 0, 13] + Array("reverse\0\0test".utf8))
        let assign: [UInt8] = [0, 0x52, 0x45, 0x53, 0, 0, 0, 11, 0, 0, 0, 20] + Array("H:lap:1\0reverse\0test".utf8)
        let packets = try Samples.parse(assign, expecting: .response, chunk: 100)
        #expect(try GearmanResponse(packets[0]) == .jobAssign(GearmanJob(handle: "H:lap:1", function: "reverse", payload: Array("test".utf8))))
        #expect(GearmanRequest.workComplete(handle: "H:lap:1", result: Array("tset".utf8)).packet.encoded
            == [0, 0x52, 0x45, 0x51, 0, 0, 0, 13, 0, 0, 0, 12] + Array("H:lap:1\0tset".utf8))
    }

    @Test("a worker's report encoded in place is the same bytes as its typed packet")
    func reportsEncodedInPlace() {
        let handle = "H:hôte-long-enough-to-be-a-heap-string:1234"
        for data in [[], [0], Array("1".utf8), Array("a\0b\0".utf8), Samples.payload, Array(repeating: 0xAB, count: 70_000)] as [[UInt8]] {
            var out: [UInt8] = [9]  // appended after what is there
            GearmanPacket.encode(.request, .workComplete, handle: handle, data: data, into: &out)
            #expect(out == [9] + GearmanRequest.workComplete(handle: handle, result: data).packet.encoded)
            out = []
            GearmanPacket.encode(.request, .workException, handle: "H:x:1", data: data, into: &out)
            #expect(out == GearmanRequest.workException(handle: "H:x:1", exception: data).packet.encoded)
            out = []
            GearmanPacket.encode(.response, .workData, handle: handle, data: data, into: &out)
            #expect(out == GearmanResponse.workData(handle: handle, data: data).packet.encoded)
        }
        var fail: [UInt8] = []
        GearmanPacket.encode(.request, .workFail, handle: handle, data: nil, into: &fail)
        #expect(fail == GearmanRequest.workFail(handle: handle).packet.encoded)
    }

    @Test("submission types map to priority and mode and back")
    func submissionModes() {
        for priority in GearmanPriority.allCases {
            for background in [false, true] {
                let s = GearmanSubmission(function: "f", payload: [], priority: priority, background: background)
                let mode = GearmanSubmission.mode(of: s.packetType)
                #expect(mode?.priority == priority && mode?.background == background)
            }
        }
        #expect(GearmanSubmission.mode(of: .canDo) == nil)
    }

    @Test("directions: WORK_* go both ways, the rest one way")
    func directions() {
        for type in GearmanPacketType.allCases {
            let both: Set<GearmanPacketType> = [.workStatus, .workComplete, .workFail, .workException, .workData, .workWarning]
            #expect(type.isRequest || type.isResponse)
            #expect((type.isRequest && type.isResponse) == both.contains(type), "\(type)")
        }
    }

    @Test("typed decoding refuses the wrong magic, long handles and non-numbers")
    func typedErrors() throws {
        #expect(throws: GearmanError.unexpectedMagic(request: false)) {
            try GearmanRequest(GearmanPacket(.response, .noop))
        }
        #expect(throws: GearmanError.wrongDirection(.noop)) {
            try GearmanRequest(GearmanPacket(.request, .noop))
        }
        #expect(throws: GearmanError.wrongDirection(.canDo)) {
            try GearmanResponse(GearmanPacket(.response, .canDo, [[0x61]]))
        }
        let long = [UInt8](repeating: 0x41, count: 65)
        #expect(throws: GearmanError.handleTooLong(length: 65)) {
            try GearmanResponse(GearmanPacket(.response, .jobCreated, [long]))
        }
        #expect(throws: GearmanError.invalidNumber(.workStatus, argument: 1)) {
            try GearmanResponse(GearmanPacket(.response, .workStatus, [[0x48], Array("1x".utf8), [0x32]]))
        }
        #expect(throws: GearmanError.invalidNumber(.statusRes, argument: 1)) {
            try GearmanResponse(GearmanPacket(.response, .statusRes, [[0x48], [], [0x30], [0x30], [0x30]]))
        }
        var packet = GearmanPacket(.response, .workFail, [[0x48]])
        packet.arguments = []
        #expect(throws: GearmanError.missingArguments(.workFail, expected: 1, found: 0)) { try GearmanResponse(packet) }
    }

    @Test("isValidField: only the last argument may hold a NUL")
    func fields() {
        #expect(GearmanPacket.isValidField("syncToRedis".utf8))
        #expect(!GearmanPacket.isValidField([0x61, 0, 0x62]))
    }
}
