import Gearman
import Testing

@Suite("Gearman packet parser: chunking, limits, garbage")
struct GearmanPacketParserTests {
    @Test("every request and response, fed in chunks of any size", arguments: [1, 2, 3, 5, 11, 12, 13, 64, 4096])
    func chunked(_ chunk: Int) throws {
        let requests = try Samples.parse(Samples.requestStream, expecting: .request, chunk: chunk)
        #expect(try requests.map(GearmanRequest.init) == Samples.requests)
        let responses = try Samples.parse(Samples.responseStream, expecting: .response, chunk: chunk)
        #expect(try responses.map(GearmanResponse.init) == Samples.responses)
    }

    @Test("a 1 MiB payload of NULs and bytes arrives whole through fill, sized by bytesNeeded")
    func largePayloadThroughFill() throws {
        let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251 == 0 ? 0 : $0) }
        let response = GearmanResponse.jobAssignUniq(GearmanJob(handle: "H:x:1", function: "f", unique: "u", payload: payload))
        let stream = response.packet.encoded + GearmanResponse.noop.packet.encoded
        var parser = GearmanPacketParser(expecting: .response)
        var offset = 0
        var got: [GearmanResponse] = []
        var receives = 0
        while offset < stream.count {
            let n = parser.fill(capacity: max(parser.bytesNeeded, 4096)) { buffer in
                let n = min(buffer.count, stream.count - offset, 300_000)
                buffer.copyBytes(from: stream[offset..<offset + n])
                return n
            }
            offset += n
            receives += 1
            while let packet = try parser.next() { got.append(try GearmanResponse(packet)) }
        }
        #expect(got == [response, .noop])
        #expect(receives <= 6, "bytesNeeded should let few receives carry the payload (\(receives))")
        #expect(parser.bufferedCount == 0)
    }

    @Test("an oversized packet fails at its header, before its data is buffered")
    func oversize() throws {
        let limits = GearmanLimits(maxPacketSize: 1024)
        var parser = GearmanPacketParser(expecting: .response, limits: limits)
        parser.append(Samples.header(.response, type: GearmanPacketType.workComplete.rawValue, size: 1025))
        #expect(throws: GearmanError.packetTooLarge(size: 1025, limit: 1024)) { try parser.next() }
        // Sticky: the stream lost its framing.
        parser.append([UInt8](repeating: 0, count: 10))
        #expect(throws: GearmanError.packetTooLarge(size: 1025, limit: 1024)) { try parser.next() }
        #expect(parser.bufferedCount == 22)
        // A 4 GiB announcement is refused with the default limit too.
        var big = GearmanPacketParser(expecting: .response)
        big.append(Samples.header(.response, type: GearmanPacketType.noop.rawValue, size: .max))
        #expect(throws: GearmanError.packetTooLarge(size: .max, limit: GearmanLimits().maxPacketSize)) { try big.next() }
        // Exactly the limit is fine.
        let fits = GearmanResponse.echoRes([UInt8](repeating: 7, count: 1024)).packet.encoded
        #expect(try Samples.parse(fits, expecting: .response, chunk: 100, limits: limits).count == 1)
    }

    @Test("garbage fails with a typed error, on the first bytes that show it", arguments: [
        (Array("status\n".utf8), GearmanError.badMagic(bytes: [0x73])),
        ([0x00, 0x52, 0x45, 0x58], GearmanError.badMagic(bytes: [0x00, 0x52, 0x45, 0x58])),
        ([0x01], GearmanError.badMagic(bytes: [0x01])),
        (Samples.header(.response, type: 5, size: 0), GearmanError.unknownType(5)),
        (Samples.header(.response, type: 0, size: 0), GearmanError.unknownType(0)),
        (Samples.header(.response, type: 43, size: 0), GearmanError.unknownType(43)),
        (Samples.header(.response, type: 0xFFFF_FFFF, size: 0), GearmanError.unknownType(0xFFFF_FFFF)),
        (Samples.header(.request, type: 6, size: 0), GearmanError.unexpectedMagic(request: true)),
        (Samples.header(.response, type: 1, size: 1) + [0x61], GearmanError.wrongDirection(.canDo)),
        (Samples.header(.response, type: 6, size: 2) + [1, 2], GearmanError.unexpectedData(.noop, size: 2)),
        (Samples.header(.response, type: 11, size: 3) + [0x48, 0, 0x66], GearmanError.missingArguments(.jobAssign, expected: 3, found: 2)),
        (Samples.header(.response, type: 31, size: 2) + [0x48, 0x66], GearmanError.missingArguments(.jobAssignUniq, expected: 4, found: 1)),
        (Samples.header(.response, type: 19, size: 0), GearmanError.missingArguments(.error, expected: 2, found: 1)),
    ] as [([UInt8], GearmanError)])
    func garbage(_ bytes: [UInt8], _ error: GearmanError) {
        // Byte by byte: the error comes as soon as the bytes so far prove it.
        var parser = GearmanPacketParser(expecting: .response)
        var thrown: GearmanError?
        for byte in bytes {
            parser.append([byte])
            do { _ = try parser.next() } catch { thrown = error; break }
        }
        #expect(thrown == error)
    }

    @Test("a server-side parser refuses responses")
    func requestSide() {
        var parser = GearmanPacketParser(expecting: .request)
        parser.append(GearmanResponse.noop.packet.encoded)
        #expect(throws: GearmanError.unexpectedMagic(request: false)) { try parser.next() }
        var other = GearmanPacketParser(expecting: .request)
        other.append(Samples.header(.request, type: GearmanPacketType.jobCreated.rawValue, size: 0))
        #expect(throws: GearmanError.wrongDirection(.jobCreated)) { try other.next() }
    }

    @Test("end of stream inside a packet is truncation; between packets it is not")
    func truncation() throws {
        var parser = GearmanPacketParser(expecting: .response)
        let bytes = GearmanResponse.workComplete(handle: "H:1", result: [1, 2, 3]).packet.encoded
        parser.append(bytes.dropLast())
        #expect(try parser.next() == nil)
        #expect(parser.bytesNeeded == 1)
        #expect(throws: GearmanError.truncated(buffered: bytes.count - 1)) { try parser.finish() }
        parser.append(bytes.suffix(1))
        #expect(try parser.next() != nil)
        try parser.finish()
    }

    @Test("random garbage never crashes and never yields more than it was given")
    func fuzzish() {
        var rng = SplitMix(seed: 0x5EED)
        for _ in 0..<2000 {
            var bytes = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            // Half the cases start with a valid magic so the deeper checks run too.
            if rng.next() % 2 == 0 { bytes = GearmanMagic.response.bytes + bytes }
            var parser = GearmanPacketParser(expecting: .response, limits: GearmanLimits(maxPacketSize: 4096))
            parser.append(bytes)
            var total = 0
            while let packet = try? parser.next() {
                total += GearmanPacket.headerSize + packet.dataSize
                _ = try? GearmanResponse(packet)
            }
            #expect(total <= bytes.count)
        }
    }
}

/// A small deterministic generator for the garbage test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
